import {
  type AdminRoutes,
  isAdminRequest,
  pause,
  serveAdminRoute,
  startLocalHttpServer,
} from '../http.js';
import {
  applyLambdaFaults,
  type LambdaFaults,
  type LambdaFaultsPatch,
  noLambdaFaults,
} from './faults.js';
import { type MappingControl, type MappingInput, MappingTable } from './mappings.js';
import { createLambdaRestHandler } from './rest-handler.js';
import type {
  EmulatedMapping,
  LambdaOperation,
  MappingState,
  RecordedLambdaCall,
} from './types.js';

export interface LambdaEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Mappings that exist from the start. */
  mappings?: MappingInput[];
  faults?: LambdaFaultsPatch;
  /** Called when a control's `apply` throws (default: ignored). */
  onControlError?: (error: unknown, uuid: string) => void;
}

/** A running Lambda API emulator (event source mappings only). */
export interface LambdaEmulator {
  /** `http://127.0.0.1:PORT`: give it as `endpoint` or `AWS_ENDPOINT_URL_LAMBDA`. */
  readonly endpoint: string;
  readonly port: number;
  readonly faults: LambdaFaults;
  /** @throws {TypeError} on a malformed function ARN or a duplicate UUID. */
  createMapping(input: MappingInput): EmulatedMapping;
  /** A copy of every mapping. */
  mappings(): EmulatedMapping[];
  mapping(uuid: string): EmulatedMapping | undefined;
  /** What the local event source mapping connects to, so that updates start and stop it. */
  controlOf(uuid: string): MappingControl;
  /**
   * Resolves once the mapping is in `state` (e.g. `Disabled`: the local poller has stopped and
   * its in-flight batches are done). @throws {Error} after `timeoutMs` (default 30 s).
   */
  waitForState(uuid: string, state: MappingState, timeoutMs?: number): Promise<void>;
  /** Every call so far, optionally of one operation. */
  calls(operation?: LambdaOperation): RecordedLambdaCall[];
  /** Changes faults while running; a given `failNext` replaces the list. @throws {TypeError} */
  setFaults(patch: LambdaFaultsPatch): LambdaFaults;
  /** Forgets the call log. */
  clear(): void;
  /** Waits for transitions in progress, then stops the server. */
  stop(): Promise<void>;
}

/**
 * Starts a Lambda API emulator on 127.0.0.1 for the event source mapping calls the worker and the
 * CLI make: `ListEventSourceMappings`, `GetEventSourceMapping` and `UpdateEventSourceMapping`
 * (`Enabled`, `BatchSize`), over Lambda's REST-JSON protocol, so `@aws-sdk/client-lambda` works
 * against it. An update answers 202 with `Disabling`/`Enabling` at once, as Lambda does; the
 * mapping becomes `Disabled`/`Enabled` once the connected local event source mapping has stopped
 * (in-flight batches finished) or started. Admin routes: `GET /__emulator/state`,
 * `GET /__emulator/calls`, `POST /__emulator/faults`, `POST /__emulator/mappings`,
 * `POST /__emulator/clear`.
 *
 * @example
 * const lambda = await startLambdaEmulator({ mappings: [{ functionArn, eventSourceArn }] });
 * const client = new LambdaClient({ endpoint: lambda.endpoint, region: 'us-east-1' });
 * await client.send(new UpdateEventSourceMappingCommand({ UUID, Enabled: false }));
 * await lambda.stop();
 *
 * @throws {TypeError} when a mapping or the faults are invalid.
 */
export const startLambdaEmulator = async (
  options: LambdaEmulatorOptions = {},
): Promise<LambdaEmulator> => {
  let faults = applyLambdaFaults(noLambdaFaults(), options.faults);
  const calls: RecordedLambdaCall[] = [];
  const lifetime = new AbortController();
  const table = new MappingTable({
    transitionMs: () => faults.transitionMs,
    sleep: (ms) => pause(ms, lifetime.signal),
    onControlError: options.onControlError ?? (() => undefined),
  });
  for (const input of options.mappings ?? []) table.create(input);
  const handler = createLambdaRestHandler({
    mappings: table,
    faults: () => faults,
    record: (call) => calls.push(call),
  });
  let routes: AdminRoutes = {};
  const server = await startLocalHttpServer(
    (request, response, signal) =>
      isAdminRequest(request)
        ? serveAdminRoute(request, response, routes)
        : handler(request, response, signal),
    options.port ?? 0,
  );

  const emulator: LambdaEmulator = {
    endpoint: server.endpoint,
    port: server.port,
    get faults() {
      return faults;
    },
    createMapping: (input) => table.create(input),
    mappings: () => table.all(),
    mapping: (uuid) => table.find(uuid),
    controlOf: (uuid) => table.controlOf(uuid),
    async waitForState(uuid, state, timeoutMs = 30_000) {
      const giveUpAt = Date.now() + timeoutMs;
      for (;;) {
        const current = table.find(uuid)?.state;
        if (current === state) return;
        if (Date.now() >= giveUpAt)
          throw new Error(
            `event source mapping ${uuid} is ${current ?? 'missing'}, not ${state}, after ${timeoutMs} ms`,
          );
        await pause(20, lifetime.signal);
      }
    },
    calls: (operation) =>
      operation === undefined ? [...calls] : calls.filter((c) => c.operation === operation),
    setFaults: (patch) => {
      faults = applyLambdaFaults(faults, patch);
      return faults;
    },
    clear: () => {
      calls.length = 0;
    },
    async stop() {
      // A transition waits for the local poller's in-flight batches: not for ever.
      await Promise.race([table.settled(), new Promise((resolve) => setTimeout(resolve, 5000))]);
      lifetime.abort();
      await server.close();
    },
  };
  routes = {
    'GET /__emulator/state': () => ({ mappings: table.all(), faults }),
    'GET /__emulator/calls': () => ({ calls }),
    'POST /__emulator/faults': (body) => ({
      faults: emulator.setFaults(body as LambdaFaultsPatch),
    }),
    'POST /__emulator/mappings': (body) => ({ mapping: table.create(body as MappingInput) }),
    'POST /__emulator/clear': () => {
      emulator.clear();
      return { ok: true };
    },
  };
  return emulator;
};
