/**
 * The worker's view of the outside world. The AWS adapters in `src/adapters` implement these;
 * unit tests swap in the in-memory twins. Nothing here imports the AWS SDK.
 */
import type { Association } from '../core/audit.js';
import type {
  BreakerLimit,
  BreakerOpening,
  BreakerState,
  ReservationOutcome,
  ReservationRequest,
} from '../core/breaker.js';
import type { MessageAttribute } from '../core/dead-letter.js';
import type { Outcome } from '../core/outcome.js';
import type { PaceSettings, PaceState } from '../core/shared-rate.js';
import type { DisassociationTarget } from '../core/target.js';

// ── Redshift ──────────────────────────────────────────────────────────────────────────────────

/** Who a Redshift call was made as: the consumer role assumed, or the function's own role. */
export interface Actor {
  accountId: string;
  /** Null when the function's own role ARN is not configured (`WORKER_ROLE_ARN`). */
  roleArn: string | null;
}

export interface DisassociationResult {
  outcome: typeof Outcome.Revoked | typeof Outcome.AlreadyRevoked;
  /** The datashare's associations as Redshift returned them after the call, when it did. */
  associations: Association[];
  /** Absent only when no call was made after all (another container confirmed the target). */
  actor?: Actor;
  /** Redshift's `RequestId` for the answer: the consumer account's CloudTrail records it. */
  requestId?: string;
}

/** What one read of a datashare's associations found, as the target's account sees them. */
export interface AssociationsRead {
  /** Every association of the datashare the call returned (all pages), any status. */
  associations: Association[];
  /** Who the read was made as. */
  actor: Actor;
  /** Redshift's `RequestId` of the last page. */
  requestId?: string;
}

/** Removes a consumer's access to a datashare: one `DisassociateDataShareConsumer` attempt. */
export interface DataShareRevoker {
  /**
   * Reads the datashare's associations (`DescribeDataShares`, every page) from the target's
   * account, with the same credentials `disassociate` would use. A datashare the account cannot
   * see has no associations.
   *
   * @throws {RedshiftCallError} classified as throttled, transient or permanent.
   */
  describeAssociations(
    target: DisassociationTarget,
    options: { region: string; signal: AbortSignal; assumeRole: boolean },
  ): Promise<AssociationsRead>;
  /**
   * Calls in `target.accountId`: as the consumer role there when `assumeRole` (hub mode, a
   * consumer account), else with the function's own credentials.
   *
   * @throws {RedshiftCallError} classified as throttled, transient or permanent
   * (`ConsumerRoleError` when the role could not be assumed).
   */
  disassociate(
    target: DisassociationTarget,
    options: { region: string; signal: AbortSignal; assumeRole: boolean },
  ): Promise<DisassociationResult>;
}

/** A span of a control plane's shared schedule, and the record as the write left it. */
export interface PaceReservation {
  /** Epoch ms: the span is `[start, start + spanMs)`. */
  start: number;
  state: PaceState;
}

/**
 * The shared pace of each Redshift control plane (`src/core/shared-rate.ts`): one record per
 * account and region that every container takes its call slots from.
 */
export interface PaceRecords {
  readonly settings: PaceSettings;
  /**
   * Takes `spanMs` of the schedule at `now`; `known` is the state this container saw last (it
   * picks the write most likely to succeed). @throws {IdempotencyStoreError}
   */
  reserve(
    key: string,
    request: { spanMs: number; now: number; known: PaceState | undefined },
    signal: AbortSignal,
  ): Promise<PaceReservation>;
  /**
   * Cuts the rate for a throttle of a call booked at `sentAt`, unless the record was cut since
   * (or within `cutGraceMs` before: the same congestion).
   * @returns the state after the cut, or undefined when it had been cut already.
   * @throws {IdempotencyStoreError}
   */
  cut(
    key: string,
    request: { sentAt: number; now: number; known: PaceState },
    signal: AbortSignal,
  ): Promise<PaceState | undefined>;
}

/**
 * Marks of congestion shared by the containers calling one control plane (the idempotency table's
 * `congestion#` items): a throttle that several containers meet at once is one congestion, and one
 * full cut answers it.
 */
export interface CongestionMarks {
  /**
   * Marks a throttle of control plane `key` seen at `now`.
   * @returns true when no mark is younger than `windowMs` (this container answers the congestion),
   * false when another container marked it first.
   * @throws {IdempotencyStoreError}
   */
  mark(
    key: string,
    request: { now: number; windowMs: number },
    signal: AbortSignal,
  ): Promise<boolean>;
}

// ── EventBridge ───────────────────────────────────────────────────────────────────────────────

export interface AuditEntry {
  /** Our key for the entry (the eventId, or the messageId of a rejected body). */
  key: string;
  detail: string;
  resources: string[];
  /** Default: the audit result's (`Datashare Revocation Result`); the breaker's events differ. */
  detailType?: string;
}

export type AuditEntryResult =
  | { ok: true }
  | { ok: false; code: string; message: string; retryable: boolean };

export interface AuditPublisher {
  /**
   * One `PutEvents` call: at most 10 entries whose `entrySize` add up to at most
   * `PUT_EVENTS_MAX_REQUEST_BYTES`; results in entry order. @throws {AwsCallError}
   */
  publish(entries: readonly AuditEntry[], signal: AbortSignal): Promise<AuditEntryResult[]>;
  /** The entry's size as EventBridge counts it, with the `Source` and `DetailType` it is sent with. */
  entrySize(entry: AuditEntry): number;
}

// ── SQS ───────────────────────────────────────────────────────────────────────────────────────

export interface DeadLetterCopy {
  /** Unique in the call: the source messageId. */
  id: string;
  body: string;
  attributes: Record<string, MessageAttribute>;
}

export type SendResult = { ok: true } | { ok: false; code: string; message: string };

export interface VisibilityChange {
  id: string;
  queueUrl: string;
  receiptHandle: string;
  visibilityTimeoutSeconds: number;
}

export interface MessageQueue {
  /** Copies messages to the dead-letter queue; results in input order. @throws {AwsCallError} */
  sendToDeadLetterQueue(
    copies: readonly DeadLetterCopy[],
    signal: AbortSignal,
  ): Promise<SendResult[]>;
  /** Sets when messages come back; results in input order. @throws {AwsCallError} */
  changeVisibility(
    changes: readonly VisibilityChange[],
    signal: AbortSignal,
  ): Promise<SendResult[]>;
  /**
   * Sends copies of messages back to their queue as new messages (receive count 0), visible after
   * `delaySeconds`: how the breaker gives back what it holds without burning a receive. Results
   * in input order. @throws {AwsCallError}
   */
  requeue(copies: readonly RequeueCopy[], signal: AbortSignal): Promise<SendResult[]>;
}

export interface RequeueCopy extends DeadLetterCopy {
  queueUrl: string;
  /** 0..900 (SQS's `DelaySeconds`). */
  delaySeconds: number;
}

// ── Lambda: the function's own event source mapping ───────────────────────────────────────────

/** Which mapping: the function's, on its source queue (no circular reference in the template). */
export interface MappingTarget {
  functionName: string;
  queueArn: string;
}

export interface SwitchOutcome {
  /** The mappings found (normally one) and their state after the change. */
  mappings: { uuid: string; state: string; changed: boolean }[];
}

/** Turns the function's event source mapping off and on (the breaker, `revoker pause`/`resume`). */
export interface EventSourceSwitch {
  /**
   * Finds the mapping (`ListEventSourceMappings` FunctionName + EventSourceArn) and sets
   * `Enabled`, unless it already is (or is becoming) so: idempotent, so a call whose answer was
   * lost is simply made again.
   *
   * @throws {EventSourceMappingNotFoundError} when the function has no mapping on the queue.
   * @throws {AwsCallError} when Lambda fails.
   */
  setEnabled(enabled: boolean, target: MappingTarget, signal: AbortSignal): Promise<SwitchOutcome>;
}

// ── Idempotency store ─────────────────────────────────────────────────────────────────────────

/** What the store keeps of a decision once Redshift has answered. */
export interface Resolution {
  outcome: Outcome;
  processedAt: string;
  attempts: number;
  associations?: Association[];
  satisfiedBy?: string;
  /** SUPERSEDED: the (earliest) change of the target's associations after the decision. */
  supersededBy?: { associationChangedAt: string; status: string };
  error?: { code: string; message: string };
  /** Who the successful call was made as, and Redshift's request id (absent: no call was made). */
  actor?: Actor;
  redshiftRequestId?: string;
  /**
   * Every message that carried the decision when it was resolved: a FAILED resolution is reused
   * only by one of them (their return after a failed audit), never by a replay, which is a new
   * message and must act again (rule 6). Older items carry `messageId` alone.
   */
  messageIds?: string[];
  /** @deprecated read by `messageIdsOf`; written by versions before `messageIds`. */
  messageId?: string;
}

/** The messages a resolution belongs to, whichever version wrote it. */
export const messageIdsOf = (resolution: Resolution): string[] => [
  ...(resolution.messageIds ?? []),
  ...(resolution.messageId === undefined ? [] : [resolution.messageId]),
];

/**
 * Who holds a decision and until when. `owner` is unique per invocation, so a claim whose answer
 * was lost, tried again by the same invocation, finds its own lease rather than a stranger's.
 */
export interface Lease {
  owner: string;
  /** Epoch ms: the owning invocation's deadline. */
  until: number;
}

export type ClaimResult =
  /** Ours to process. `resolution` is set when an earlier try resolved it but its audit failed. */
  | { status: 'acquired'; resolution?: Resolution }
  /** Completed and audited earlier: a duplicate. */
  | { status: 'completed'; resolution: Resolution }
  /** Another invocation holds it until `leaseUntil` (epoch ms). */
  | { status: 'in-progress'; leaseUntil: number };

/** `copied`: the DLQ copy was sent, the audit not accepted yet; `settled`: both done. */
export type QuarantineStage = 'copied' | 'settled';

export interface TargetConfirmation {
  /** Epoch ms at which the Redshift call that confirmed the consumer without access was sent. */
  confirmedAt: number;
  eventId: string;
}

/** What one batched read found (`IdempotencyStore.readMany`). */
export interface StoreSnapshot {
  /** The eventIds asked about whose decision is COMPLETED within the dedup window. */
  completed: ReadonlySet<string>;
  /**
   * The eventIds asked about that have a decision within the dedup window, in any state (held,
   * resolved or completed): the others had none when read, and `claimNew` may take them at once.
   */
  held: ReadonlySet<string>;
  /** Every target key asked about: its confirmation, or undefined when none is recorded. */
  confirmations: ReadonlyMap<string, TargetConfirmation | undefined>;
}

/** A target's confirmation to record (`IdempotencyStore.confirmTargets`). */
export interface ConfirmationEntry {
  targetKey: string;
  confirmation: TargetConfirmation;
}

/** A decision to mark completed (`IdempotencyStore.completeMany`). */
export interface Completion {
  eventId: string;
  resolution: Resolution;
}

/**
 * Every method takes the signal that bounds it by the invocation's deadline, and throws
 * `IdempotencyStoreError` when the store cannot be reached or answers late. A write whose answer
 * was lost may still have been applied: callers must tolerate both.
 */
export interface IdempotencyStore {
  /** Takes the decision for this invocation until `lease.until`. @throws {IdempotencyStoreError} */
  claim(eventId: string, lease: Lease, signal: AbortSignal): Promise<ClaimResult>;
  /**
   * Takes, all or none at once, decisions the store had none of when read (`readMany`'s `held`):
   * the first delivery of a batch's decisions, in one request (DynamoDB: `TransactWriteItems`, 100
   * a request). Returns the eventIds now this lease's (`claim` would have answered `acquired`
   * without a resolution); the others are for `claim`, one at a time: another invocation got to
   * one of them first, or the request failed — maybe after it took effect, which `claim` then
   * finds as this lease's own. @throws {IdempotencyStoreError} when no request was answered.
   */
  claimNew(
    eventIds: readonly string[],
    lease: Lease,
    signal: AbortSignal,
  ): Promise<ReadonlySet<string>>;
  /**
   * Keeps Redshift's answer so a failed audit can be retried without a second call, and ends the
   * lease: the next receive may take it up at once (it never overwrites a completed decision).
   */
  resolve(eventId: string, resolution: Resolution, signal: AbortSignal): Promise<void>;
  /** Marks the decision completed and audited, for the dedup window. */
  complete(eventId: string, resolution: Resolution, signal: AbortSignal): Promise<void>;
  /**
   * `complete` for many decisions in as few requests as the store allows (DynamoDB:
   * `BatchWriteItem`, 25 items a request). Returns the eventIds it could not write before the
   * signal ended; a write reported unwritten may still have landed (a lost answer).
   * @throws {IdempotencyStoreError} only when nothing could be attempted.
   */
  completeMany(completions: readonly Completion[], signal: AbortSignal): Promise<string[]>;
  /**
   * Records many confirmations in as few requests as the store allows (DynamoDB:
   * `BatchWriteItem`), **unconditionally**: a batched write carries no condition, so it may
   * replace a later confirmation another container recorded meanwhile with this earlier one. Rule
   * 5 then sends a few more decisions to Redshift (answered ALREADY_REVOKED), never fewer: any
   * recorded time is one at which a call confirmed the target. Returns the keys not written.
   * @throws {IdempotencyStoreError} only when nothing could be attempted.
   */
  confirmTargets(
    confirmations: readonly ConfirmationEntry[],
    signal: AbortSignal,
  ): Promise<string[]>;
  /**
   * `completeMany` and `confirmTargets` in the same requests (DynamoDB: `BatchWriteItem`, 25
   * items a request): a batch's completions with the confirmations its Redshift step left
   * waiting. Returns what it could not write, of each; the same caveats as each alone.
   * @throws {IdempotencyStoreError} only when nothing could be attempted.
   */
  completeAndConfirm(
    completions: readonly Completion[],
    confirmations: readonly ConfirmationEntry[],
    signal: AbortSignal,
  ): Promise<{ eventIds: string[]; targetKeys: string[] }>;
  /**
   * Reads the decisions' completion and the targets' confirmations at once (DynamoDB:
   * `BatchGetItem`, strongly consistent, 100 keys a request): a duplicate of a completed
   * decision needs no claim, and a batch's targets need no read each. @throws {IdempotencyStoreError}
   */
  readMany(
    keys: { eventIds: readonly string[]; targetKeys: readonly string[] },
    signal: AbortSignal,
  ): Promise<StoreSnapshot>;
  /**
   * Ends `owner`'s lease, keeping whatever resolution is stored: the decision is free for the next
   * receive. A no-op when someone else holds it or it is completed.
   */
  release(eventId: string, owner: string, signal: AbortSignal): Promise<void>;
  /** Deletes the decision (a FAILED one, audited): a replay acts again (rule 6). */
  forget(eventId: string, signal: AbortSignal): Promise<void>;
  getTargetConfirmation(
    targetKey: string,
    signal: AbortSignal,
  ): Promise<TargetConfirmation | undefined>;
  /** Records a confirmation unless a later one is already recorded. */
  confirmTarget(
    targetKey: string,
    confirmation: TargetConfirmation,
    signal: AbortSignal,
  ): Promise<void>;
  /**
   * Remembers how far a message's quarantine got, so that its redelivery (same messageId: a failed
   * audit, a crash) neither copies it to the DLQ twice nor audits it twice.
   */
  markQuarantined(messageId: string, stage: QuarantineStage, signal: AbortSignal): Promise<void>;
  quarantineStage(messageId: string, signal: AbortSignal): Promise<QuarantineStage | undefined>;

  // The breaker's one record, shared by every container (see `src/core/breaker.ts`).
  /**
   * Atomically counts disassociate calls against the window, in order, in one write: each is
   * reserved, or — the first that would be one more than `limit.maxRevocations` — opens the
   * breaker (`openedNow`: this caller opened it and announces it), or finds it open. A reserved
   * one names the bucket it was counted in. A reservation whose answer was lost may stand counted
   * (errs high).
   */
  reserveRevocations(
    requests: readonly ReservationRequest[],
    limit: BreakerLimit,
    signal: AbortSignal,
  ): Promise<ReserveResult[]>;
  /** Gives one reservation of `bucket` back: its call did not revoke. A no-op when none is there. */
  releaseRevocation(bucket: string, signal: AbortSignal): Promise<void>;
  readBreaker(signal: AbortSignal): Promise<BreakerState>;
  /** Closes the breaker and starts a new window; returns the opening it closed, if any. */
  closeBreaker(signal: AbortSignal): Promise<BreakerOpening | undefined>;
}

export type ReserveResult = ReservationOutcome;

// ── Observability ─────────────────────────────────────────────────────────────────────────────

export const MetricName = {
  Revoked: 'Revoked',
  AlreadyRevoked: 'AlreadyRevoked',
  Superseded: 'Superseded',
  DryRun: 'DryRun',
  Rejected: 'Rejected',
  Failed: 'Failed',
  DuplicatesSuppressed: 'DuplicatesSuppressed',
  RedshiftAttempts: 'RedshiftAttempts',
  Throttles: 'Throttles',
  RetriesScheduled: 'RetriesScheduled',
  EnforcementLatency: 'EnforcementLatency',
  BreakerOpened: 'BreakerOpened',
  AuditPublishFailures: 'AuditPublishFailures',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

export interface Metrics {
  add(name: MetricName, value: number, unit?: 'Count' | 'Milliseconds'): void;
  /** Writes what was added since the last flush. */
  flush(): void;
}
