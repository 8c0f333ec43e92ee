import type pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { AccountScope } from '../core/account-scope.js';
import type { Random } from '../core/backoff.js';
import type { BreakerOpening } from '../core/breaker.js';
import type { Clock, Deadline } from '../core/deadline.js';
import { AwsCallError, DeadlineExceededError, toError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import type { Breaker, BreakerRun } from './breaker.js';
import type { ConfirmationWriter } from './confirmations.js';
import { DisassociationFailedError } from './disassociate.js';
import type {
  AuditPublisher,
  DataShareRevoker,
  DeadLetterCopy,
  IdempotencyStore,
  Lease,
  MessageQueue,
  Metrics,
  Resolution,
  TargetConfirmation,
} from './ports.js';
import type { Decision, Delivery } from './prepare.js';
import type { RedshiftGates, Sleep } from './redshift-gate.js';

// What the steps of `processBatch` share: its dependencies and settings, its timing constants,
// and the state a decision moves through.

export interface WorkerSettings {
  region: string;
  /** The source queue's visibility timeout: no retry comes back sooner (rule 11). */
  queueVisibilityTimeoutSeconds: number;
  /** Rule 11's first backoff (seconds); it doubles per receive, up to 15 minutes. */
  retryBackoffBaseSeconds: number;
  auditEventBusName: string;
  auditEventSource: string;
  maxReceiveCount: number;
  clockSkewMarginSeconds: number;
  /** Older decisions (and replayed or redelivered ones) are checked for a newer association. */
  staleAfterSeconds: number;
  redshiftMaxAttempts: number;
  redshiftRequestTimeoutMs: number;
  deadlineReserveMs: number;
  dryRun: boolean;
  /** `ALLOW_BROAD_TARGETS`: region- and account-wide targets may act. */
  allowBroadTargets: boolean;
  /** `ALLOWED_DATASHARES`: the datashare ARN prefixes requests may name (undefined: any). */
  allowedDataShares?: readonly string[];
  /** Hub mode: the accounts besides its own the worker may act in (with the consumer role). */
  consumerRole?: { accounts: ReadonlySet<string> | '*' };
}

export interface WorkerDependencies {
  settings: WorkerSettings;
  revoker: DataShareRevoker;
  audit: AuditPublisher;
  queue: MessageQueue;
  store: IdempotencyStore;
  /** One adaptive rate per control plane (account, region), one in-flight cap per container. */
  gate: RedshiftGates;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  sleep: Sleep;
  random: Random;
  /** Set when `BREAKER_MAX_REVOCATIONS` is: counts revocations, opens, disables the mapping. */
  breaker?: Breaker;
}

/** The handler keeps this much time for returning its response after the last call. */
export const RETURN_MARGIN_MS = 500;
/** No Redshift attempt starts with less time than this left before the deadline. */
export const MIN_ATTEMPT_MS = 1000;
/** A call the gate held this long re-reads the target's confirmation first (another container may have acted). */
export const RECHECK_AFTER_WAIT_MS = 50;
/**
 * A call whose confirmation was read this long before it (a slow store, long claims) re-reads it
 * first, whatever the gate's wait: the batch's read comes before its claims.
 */
export const RECHECK_AFTER_AGE_MS = 250;
/** Time one `PutEvents` round needs. */
export const AUDIT_ROUND_BUDGET_MS = 1000;
export const AUDIT_MAX_ROUNDS = 4;
/**
 * Time kept after the audit for settling it (the store writes that make a return cheap: a kept
 * resolution, a completion). A store write takes milliseconds; this is its ceiling.
 */
export const SETTLE_BUDGET_MS = 250;
/** DynamoDB calls in flight at once per invocation. */
export const STORE_CONCURRENCY = 16;
/** No store call starts with less time than this left: it could not finish. */
export const MIN_STORE_CALL_MS = 50;

/**
 * Why a decision could not be taken up: its error code when it is set aside at the last receive.
 */
export const BusyReason = {
  InProgressElsewhere: 'InProgressElsewhere',
  StoreUnavailable: 'StoreUnavailable',
} as const;
export type BusyReason = (typeof BusyReason)[keyof typeof BusyReason];

/** Where a decision stands while the batch is processed. */
export type DecisionState =
  | { kind: 'pending' }
  | { kind: 'duplicate' }
  /** Held by another invocation until `leaseUntil` (when known): comes back after it. */
  | { kind: 'busy'; why: BusyReason; detail: string; leaseUntil?: number }
  | { kind: 'resolved'; resolution: Resolution; fromStore: boolean }
  | { kind: 'retry'; error: { code: string; message: string }; attempts: number }
  /**
   * At its last receive and still held elsewhere: dead-lettered with the reason, not audited (its
   * holder audits the decision), and acknowledged, rather than left to SQS's silent redrive.
   */
  | { kind: 'setAside'; error: { code: string; message: string } }
  /**
   * Its Redshift call would pass the breaker's limit, or the breaker is open: no call. Sent back
   * to the queue as a new message (no receive burned), never dead-lettered for this reason.
   */
  | { kind: 'held'; opening: BreakerOpening };

export interface Tracked {
  decision: Decision;
  state: DecisionState;
  /** This invocation holds the decision's lease (its claim was acquired): release it at the end. */
  owned?: boolean;
}

/** What every step of one invocation shares besides its dependencies. */
export interface Invocation {
  /** Where this worker may act: its own account (from the invocation's ARN) and the configured ones. */
  scope: AccountScope;
  /** This invocation's lease on the decisions it claims (owner unique per invocation). */
  lease: Lease;
  /** When the Redshift phase must end (`DEADLINE_RESERVE_MS` before the Lambda deadline). */
  redshiftDeadline: Deadline;
  /** When the handler must have returned (`RETURN_MARGIN_MS` before the Lambda deadline). */
  finalDeadline: Deadline;
  /** Per-invocation limit on concurrent store calls. */
  limitStore: StoreLimit;
  /** The breaker's work in this invocation, when the breaker is on. */
  breaker?: BreakerRun;
  /**
   * The batch's target confirmations, read at once with the decisions (`readSnapshot`) at
   * `readAt` (epoch ms, when the read was sent): a key present was read (undefined: none
   * recorded); a key absent is read on its own when needed.
   */
  targetConfirmations: { readAt: number; byKey: Map<string, TargetConfirmation | undefined> };
  /** Records targets' confirmations, coalescing the batch's (`confirmationWriter`). */
  confirmations: ConfirmationWriter;
  /**
   * Writes nothing in the batch waits for (target confirmations: the audit and the completions
   * do not depend on them), each with its failure handled: awaited before the handler returns.
   */
  pendingWrites: Promise<void>[];
}

/**
 * Runs a store call bounded by a deadline: its signal aborts when the deadline comes (each of its
 * requests also has the client's own timeout, 3 s), and it is not started at all when too little
 * time is left. A claim may take several requests (a conditional write, a read, a takeover).
 *
 * @throws {DeadlineExceededError} when no time is left to start it.
 */
export const storeCall = <T>(
  deadline: Deadline,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> => {
  if (!deadline.allows(MIN_STORE_CALL_MS))
    return Promise.reject(
      new DeadlineExceededError('No time left before the Lambda deadline for a store call', {}),
    );
  return call(deadline.signal());
};

/** A message (or decision) headed for a terminal audit event. */
export interface Terminal {
  key: string;
  outcome: Outcome;
  deliveries: Delivery[];
  detail: string;
  resources: string[];
  quarantine?: DeadLetterCopy;
  /** Dead-lettered only: no audit entry (a decision set aside while another invocation holds it). */
  unaudited?: true;
  tracked?: Tracked;
}

/** Whether a decision's message closest to the DLQ is at its last receive. */
export const atLastReceive = (deliveries: readonly Delivery[], settings: WorkerSettings): boolean =>
  deliveries.some((delivery) => delivery.receiveCount >= settings.maxReceiveCount);

export const errorSummary = (error: unknown): { code: string; message: string } => {
  if (error instanceof DisassociationFailedError) return errorSummary(error.cause);
  if (error instanceof AwsCallError) return { code: error.code, message: error.message };
  if (error instanceof DeadlineExceededError)
    return { code: 'DeadlineExceeded', message: error.message };
  const e = toError(error);
  return { code: e.name || 'Error', message: e.message };
};

/** A p-limit limiter for the idempotency store calls of one invocation. */
export type StoreLimit = ReturnType<typeof pLimit>;
