import type { DisassociationTarget } from '../../core/target.js';
import type { RedshiftFaultsPatch, TargetedFault } from '../redshift-emulator/index.js';
import type { EventLine } from './events-file.js';
import type { LocalDemoOptions } from './options.js';

/**
 * The Redshift faults `npm start` arms for the events file, by eventId convention:
 * - `demo-throttled-*`: the target's first two `DisassociateDataShareConsumer` calls are answered
 *   `Throttling` "Rate exceeded", so the worker backs off, retries and revokes on the third;
 * - `demo-denied-*`: the target's first call is answered 403 `AccessDenied` (as when the worker's
 *   IAM policy does not cover that consumer), a permanent error: FAILED, dead-lettered.
 *
 * (`demo-norole-*` needs no fault: its account has no consumer role in `examples/accounts.json`,
 * so STS itself refuses the `AssumeRole`.)
 */
export const DEMO_FAULT_RULES = [
  { prefix: 'demo-throttled-', kind: 'throttle', count: 2 },
  { prefix: 'demo-denied-', kind: 'accessDenied', count: 1 },
] as const;

/** One armed fault, as the summary shows it. */
export interface DemoFault {
  eventId: string;
  kind: TargetedFault['kind'];
  count: number;
  dataShareArn: string;
  /** The emulator's consumer key: a namespace ARN, `region:<r>` or `account:<id>`. */
  consumer: string;
}

/**
 * The emulator's key for a worker target (see `consumerKeyOf` in the Redshift emulator): an
 * entire-account target is keyed by the account the call acts in, the target's own.
 */
export const emulatorConsumerKey = ({ consumer, accountId }: DisassociationTarget): string => {
  switch (consumer.kind) {
    case 'namespace':
      return consumer.arn;
    case 'region':
      return `region:${consumer.region}`;
    case 'account':
      return `account:${accountId}`;
  }
};

/** The targeted faults the events file asks for, once per eventId. */
export const demoFaultsFor = (lines: readonly EventLine[]): DemoFault[] => {
  const faults = new Map<string, DemoFault>();
  for (const { eventId, target } of lines) {
    if (eventId === null || target === undefined || faults.has(eventId)) continue;
    const rule = DEMO_FAULT_RULES.find(({ prefix }) => eventId.startsWith(prefix));
    if (!rule) continue;
    faults.set(eventId, {
      eventId,
      kind: rule.kind,
      count: rule.count,
      dataShareArn: target.dataShareArn,
      consumer: emulatorConsumerKey(target),
    });
  }
  return [...faults.values()];
};

/** The Redshift emulator's faults: the command line's random ones plus the targeted ones. */
export const redshiftFaultsFor = (
  options: Pick<LocalDemoOptions, 'throttleRps' | 'errorRate' | 'latencyMs'>,
  faults: readonly DemoFault[],
): RedshiftFaultsPatch => ({
  throttleRps: options.throttleRps,
  errorRate: options.errorRate,
  latencyMs: options.latencyMs,
  failNext: faults.map((fault) => ({
    kind: fault.kind,
    operation: 'DisassociateDataShareConsumer',
    dataShareArn: fault.dataShareArn,
    consumer: fault.consumer,
    count: fault.count,
  })),
});
