import { createRequire } from 'node:module';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { startLocalStack } from '../../src/local/stack.js';
import { hostHandlers, hostInfo } from './handlers.js';
import type {
  HostReady,
  HostResponse,
  StackHostInfo,
  StackHostMethod,
  StackHostMethods,
  StackHostOptions,
} from './protocol.js';

export type { AuditRecord, StackHostInfo, StackHostOptions } from './protocol.js';

/** The local stack, running in a worker thread of this process (or, `sameThread`, in this one). */
export interface StackHost extends StackHostInfo {
  call<M extends StackHostMethod>(
    method: M,
    ...args: StackHostMethods[M]['args'] extends undefined ? [] : [StackHostMethods[M]['args']]
  ): Promise<StackHostMethods[M]['result']>;
  /** The host thread's event-loop utilisation, as `performance.eventLoopUtilization` reports it. */
  eventLoopUtilization(since?: EventLoopUtilization): EventLoopUtilization;
  /** Stops the stack and ends the thread. */
  stop(): Promise<void>;
}

// The thread runs TypeScript sources: give it tsx's loader whether the parent runs under tsx
// (npm run bench) or under vitest (the smoke test), which do not pass their hooks on alike.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Starts the local stack in a worker thread and resolves once it serves requests. With
 * `sameThread` (`npm run bench -- --single-thread`) the stack runs on the caller's own thread
 * instead: emulators, event source mappings and containers then share one event loop, so the
 * worker's CPU cost shows in the storm's drain time as it would on a slower machine.
 *
 * @throws {Error} when the stack cannot start (the thread's error, as its cause).
 */
export const startStackHost = async (
  options: StackHostOptions,
  placement: { sameThread?: boolean } = {},
): Promise<StackHost> => {
  if (placement.sameThread) return startSameThreadHost(options);
  const worker = new Worker(new URL('./host-thread.ts', import.meta.url), {
    workerData: options,
    // fauxqs uses node:sqlite, which warns that it is experimental on every start.
    execArgv: ['--import', TSX_LOADER, '--disable-warning=ExperimentalWarning'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;

  const info = await new Promise<StackHostInfo>((resolve, reject) => {
    const onError = (error: Error) =>
      reject(new Error('the benchmark stack host failed to start', { cause: error }));
    worker.once('error', onError);
    worker.once('exit', (code) =>
      reject(new Error(`the benchmark stack host exited with code ${code} before it was ready`)),
    );
    worker.once('message', (message: HostReady) => {
      worker.off('error', onError);
      resolve(message.info);
    });
  });
  worker.removeAllListeners('exit');
  worker.on('message', (message: HostResponse) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(`stack host: ${message.error}`));
  });
  worker.on('error', (error) => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  });

  const call = (method: StackHostMethod, args?: unknown) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });

  return {
    ...info,
    call: call as StackHost['call'],
    eventLoopUtilization: (since) =>
      since
        ? worker.performance.eventLoopUtilization(since)
        : worker.performance.eventLoopUtilization(),
    stop: async () => {
      await call('stop');
      await worker.terminate();
    },
  };
};

/** The same interface over a stack on this thread: calls are plain function calls. */
const startSameThreadHost = async (options: StackHostOptions): Promise<StackHost> => {
  const stack = await startLocalStack(options);
  const handlers = hostHandlers(stack);
  const call = async (method: StackHostMethod, args?: unknown) =>
    structuredClone(await (handlers[method] as (a: unknown) => unknown)(args));
  return {
    ...hostInfo(stack),
    call: call as StackHost['call'],
    eventLoopUtilization: (since) =>
      since ? performance.eventLoopUtilization(since) : performance.eventLoopUtilization(),
    stop: async () => {
      await stack.stop();
    },
  };
};
