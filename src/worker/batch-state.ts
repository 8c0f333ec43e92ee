import type pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { Random } from '../core/backoff.js';
import type { Clock } from '../core/deadline.js';
import { AwsCallError, DeadlineExceededError, toError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import { DisassociationFailedError } from './disassociate.js';
import type {
  AuditPublisher,
  DataShareRevoker,
  DeadLetterCopy,
  IdempotencyStore,
  MessageQueue,
  Metrics,
  Resolution,
} from './ports.js';
import type { Decision, Delivery } from './prepare.js';
import type { RedshiftGate, Sleep } from './redshift-gate.js';

// What the steps of `processBatch` share: its dependencies and settings, its timing constants,
// and the state a decision moves through.

export interface WorkerSettings {
  region: string;
  auditEventBusName: string;
  auditEventSource: string;
  maxReceiveCount: number;
  clockSkewMarginSeconds: number;
  redshiftMaxAttempts: number;
  redshiftRequestTimeoutMs: number;
  deadlineReserveMs: number;
  dryRun: boolean;
}

export interface WorkerDependencies {
  settings: WorkerSettings;
  revoker: DataShareRevoker;
  audit: AuditPublisher;
  queue: MessageQueue;
  store: IdempotencyStore;
  gate: RedshiftGate;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  sleep: Sleep;
  random: Random;
}

/** The handler keeps this much time for returning its response after the last call. */
export const RETURN_MARGIN_MS = 500;
/** No Redshift attempt starts with less time than this left before the deadline. */
export const MIN_ATTEMPT_MS = 1000;
/** A call the gate held this long re-reads the target's confirmation first (another container may have acted). */
export const RECHECK_AFTER_WAIT_MS = 50;
/** Time one `PutEvents` round needs. */
export const AUDIT_ROUND_BUDGET_MS = 1000;
export const AUDIT_MAX_ROUNDS = 4;
/** DynamoDB calls in flight at once per invocation. */
export const STORE_CONCURRENCY = 16;

/** Where a decision stands while the batch is processed. */
export type DecisionState =
  | { kind: 'pending' }
  | { kind: 'duplicate' }
  /** Held by another invocation until `leaseUntil` (when known): comes back after it. */
  | { kind: 'busy'; why: string; leaseUntil?: number }
  | { kind: 'resolved'; resolution: Resolution; fromStore: boolean }
  | { kind: 'retry'; error: { code: string; message: string }; attempts: number };

export interface Tracked {
  decision: Decision;
  state: DecisionState;
}

/** A message (or decision) headed for a terminal audit event. */
export interface Terminal {
  key: string;
  outcome: Outcome;
  deliveries: Delivery[];
  detail: string;
  resources: string[];
  quarantine?: DeadLetterCopy;
  tracked?: Tracked;
}

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
