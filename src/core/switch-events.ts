/**
 * The events the breaker and the pause switch publish on the audit bus (same `Source` as the audit
 * results, their own `DetailType`), built here so that the worker and the CLI say the same thing.
 * Free text is capped in UTF-8 bytes (a cut value ends in `…`).
 */
import type { BreakerOpening } from './breaker.js';
import { truncateUtf8 } from './text.js';

export const SwitchDetailType = {
  BreakerOpened: 'Datashare Revoker Breaker Opened',
  Paused: 'Datashare Revoker Paused',
  Resumed: 'Datashare Revoker Resumed',
} as const;
export type SwitchDetailType = (typeof SwitchDetailType)[keyof typeof SwitchDetailType];

/** Caps of the free-text fields, in UTF-8 bytes. */
export const SWITCH_TEXT_CAPS = { reason: 1024, identifier: 1536, arn: 1024 } as const;

/** Who flipped the switch: `sts:GetCallerIdentity`'s answer (or what the CLI could find). */
export interface Caller {
  arn: string;
  account: string | null;
  userId: string | null;
}

const cap = (text: string, bytes: number): string => truncateUtf8(text, bytes);

const openingDetail = (opening: BreakerOpening) => ({
  openedAt: new Date(opening.openedAt).toISOString(),
  revocationsInWindow: opening.revocationsInWindow,
  firstRevocationAt:
    opening.firstRevocationAt === null ? null : new Date(opening.firstRevocationAt).toISOString(),
  maxRevocations: opening.maxRevocations,
  windowSeconds: opening.windowSeconds,
  trippedBy: {
    eventId: cap(opening.trippedBy.eventId, SWITCH_TEXT_CAPS.identifier),
    policyId: cap(opening.trippedBy.policyId, SWITCH_TEXT_CAPS.identifier),
    dataShareArn: cap(opening.trippedBy.dataShareArn, SWITCH_TEXT_CAPS.arn),
    target: cap(opening.trippedBy.target, SWITCH_TEXT_CAPS.identifier),
    messageId: cap(opening.trippedBy.messageId, 256),
  },
});

/**
 * `Datashare Revoker Breaker Opened`: the counts, the window, and the decision whose call would
 * have been one too many.
 */
export const breakerOpenedDetail = (
  opening: BreakerOpening,
  worker: { functionName: string; awsRequestId: string },
): string =>
  JSON.stringify({
    schemaVersion: 1,
    ...openingDetail(opening),
    worker: {
      functionName: cap(worker.functionName, 256),
      awsRequestId: cap(worker.awsRequestId, 256),
    },
  });

/** `Datashare Revoker Paused` / `Resumed`: who, why, what was switched (and, resuming, the breaker it closed). */
export const switchDetail = (input: {
  caller: Caller;
  reason: string | undefined;
  at: Date;
  functionName: string;
  queueArn: string;
  mappings: { uuid: string; state: string; changed: boolean }[];
  /** Resume only: the open breaker it closed, null when none was open. */
  breakerClosed?: BreakerOpening | null;
}): string =>
  JSON.stringify({
    schemaVersion: 1,
    at: input.at.toISOString(),
    caller: {
      arn: cap(input.caller.arn, SWITCH_TEXT_CAPS.arn),
      account: input.caller.account,
      userId: input.caller.userId === null ? null : cap(input.caller.userId, 256),
    },
    reason: input.reason === undefined ? null : cap(input.reason, SWITCH_TEXT_CAPS.reason),
    functionName: cap(input.functionName, 256),
    queueArn: cap(input.queueArn, SWITCH_TEXT_CAPS.arn),
    mappings: input.mappings,
    ...(input.breakerClosed !== undefined && {
      breakerClosed: input.breakerClosed === null ? null : openingDetail(input.breakerClosed),
    }),
  });
