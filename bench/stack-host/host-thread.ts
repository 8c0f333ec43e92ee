/**
 * Worker-thread entry: runs the local stack (fauxqs, dynalite, the Redshift and EventBridge
 * emulators) on its own event loop, so that the "AWS side" of a benchmark does not compete with
 * the "Lambda side" (the handlers under test, on the main thread) for one thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startLocalStack } from '../../src/local/stack.js';
import { hostHandlers, hostInfo } from './handlers.js';
import type { HostReady, HostRequest, HostResponse, StackHostOptions } from './protocol.js';

if (!parentPort) throw new Error('host-thread.ts must run in a worker thread');
const port = parentPort;

const stack = await startLocalStack(workerData as StackHostOptions);
const handlers = hostHandlers(stack);

port.on('message', async (request: HostRequest) => {
  let response: HostResponse;
  try {
    const handler = handlers[request.method] as (args: unknown) => unknown;
    response = { id: request.id, ok: true, result: await handler(request.args) };
  } catch (error) {
    response = {
      id: request.id,
      ok: false,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
  port.postMessage(response);
  if (request.method === 'stop') port.close();
});

port.postMessage({ type: 'ready', info: hostInfo(stack) } satisfies HostReady);
