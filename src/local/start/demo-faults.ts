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

/** The emulator's key for a worker target (see `consumerKeyOf` in the Redshift emulator). */
export const emulatorConsumerKey = (
  target: DisassociationTarget,
  consumerAccountId: string,
): string => {
  const { consumer } = target;
  switch (consumer.kind) {
    case 'namespace':
      return consumer.arn;
    case 'region':
      return `region:${consumer.region}`;
    case 'account':
      return `account:${consumerAccountId}`;
  }
};

/** The targeted faults the events file asks for, once per eventId. */
export const demoFaultsFor = (
  lines: readonly EventLine[],
  consumerAccountId: string,
): DemoFault[] => {
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
      consumer: emulatorConsumerKey(target, consumerAccountId),
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
