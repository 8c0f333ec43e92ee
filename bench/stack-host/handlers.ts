/**
 * What the stack host answers, on whichever thread the stack runs: the worker thread
 * (`host-thread.ts`, the default) or the benchmark's own (`--single-thread`).
 */
import type { AcceptedEvent } from '../../src/local/eventbridge-emulator/index.js';
import type { LocalStack } from '../../src/local/stack.js';
import type { AuditRecord, StackHostInfo, StackHostMethods } from './protocol.js';

export type HostHandlers = {
  [M in keyof StackHostMethods]: (
    args: StackHostMethods[M]['args'],
  ) => StackHostMethods[M]['result'] | Promise<StackHostMethods[M]['result']>;
};

const auditRecord = (event: AcceptedEvent): AuditRecord => ({
  eventId: typeof event.detail.eventId === 'string' ? event.detail.eventId : null,
  outcome: typeof event.detail.outcome === 'string' ? event.detail.outcome : null,
  call: event.call,
  at: Date.parse(event.time),
});

/** The host's methods over a running stack. */
export const hostHandlers = (stack: LocalStack): HostHandlers => {
  const bus = stack.auditEventBus.name;
  return {
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
    dynamoDbRequests: () =>
      Object.fromEntries(
        Object.entries(stack.dynamoDbProxy?.stats().byOperation ?? {}).map(([operation, c]) => [
          operation,
          c.calls,
        ]),
      ),
    stop: async () => {
      await stack.stop();
      return undefined;
    },
  };
};

/** What the host reports once its stack runs. */
export const hostInfo = (stack: LocalStack): StackHostInfo => ({
  region: stack.region,
  accountId: stack.accountId,
  env: stack.env,
  queues: {
    source: { url: stack.queues.source.url, arn: stack.queues.source.arn },
    deadLetter: { url: stack.queues.deadLetter.url, arn: stack.queues.deadLetter.arn },
  },
  auditEventBus: stack.auditEventBus.name,
});
