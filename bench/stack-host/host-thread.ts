/**
 * Worker-thread entry: runs the local stack (fauxqs, dynalite, the Redshift and EventBridge
 * emulators) on its own event loop, so that the "AWS side" of a benchmark does not compete with
 * the "Lambda side" (the handlers under test, on the main thread) for one thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AcceptedEvent } from '../../src/local/eventbridge-emulator/index.js';
import { startLocalStack } from '../../src/local/stack.js';
import type {
  AuditRecord,
  HostReady,
  HostRequest,
  HostResponse,
  StackHostInfo,
  StackHostMethods,
  StackHostOptions,
} from './protocol.js';

if (!parentPort) throw new Error('host-thread.ts must run in a worker thread');
const port = parentPort;

const stack = await startLocalStack(workerData as StackHostOptions);
const bus = stack.auditEventBus.name;

const auditRecord = (event: AcceptedEvent): AuditRecord => ({
  eventId: typeof event.detail.eventId === 'string' ? event.detail.eventId : null,
  outcome: typeof event.detail.outcome === 'string' ? event.detail.outcome : null,
  call: event.call,
  at: Date.parse(event.time),
});

type Handlers = {
  [M in keyof StackHostMethods]: (
    args: StackHostMethods[M]['args'],
  ) => StackHostMethods[M]['result'] | Promise<StackHostMethods[M]['result']>;
};

const handlers: Handlers = {
  redshiftCalls: () => [...stack.redshift.calls],
  redshiftStats: () => stack.redshift.stats(),
  associatedCount: (targets) =>
    targets.filter((t) => stack.redshift.isAssociated(t.dataShareArn, t.consumerArn)).length,
  auditEvents: () => stack.eventBridge.eventsOn(bus).map(auditRecord),
  auditEventCount: () => stack.eventBridge.eventsOn(bus).length,
  assumeRoleCounts: (roleArns) =>
    Object.fromEntries(roleArns.map((arn) => [arn, stack.sts.assumeRoleCount(arn)])),
  callCounts: () => ({
    redshift: stack.redshift.calls.length,
    eventBridge: stack.eventBridge.stats().calls,
  }),
  stop: async () => {
    await stack.stop();
    return undefined;
  },
};

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

const info: StackHostInfo = {
  region: stack.region,
  accountId: stack.accountId,
  env: stack.env,
  queues: {
    source: { url: stack.queues.source.url, arn: stack.queues.source.arn },
    deadLetter: { url: stack.queues.deadLetter.url, arn: stack.queues.deadLetter.arn },
  },
  auditEventBus: bus,
};
port.postMessage({ type: 'ready', info } satisfies HostReady);
