import { Outcome } from '../core/outcome.js';
import {
  AUDIT_ROUND_BUDGET_MS,
  atLastReceive,
  BusyReason,
  errorSummary,
  type Invocation,
  type Terminal,
  type Tracked,
  type WorkerDependencies,
} from './batch-state.js';
import type { AuditEntryResult, DeadLetterCopy } from './ports.js';
import type { Delivery } from './prepare.js';
import { deadLetterCopy } from './quarantine.js';

// ── The last receive: nothing is left to SQS's own redrive, which would move it with no reason ──
//
// At `MAX_RECEIVE_COUNT`, a message the worker returns is moved to the DLQ by SQS as it was
// received: no `revoker.*` attributes, no audit event. So at that receive, whatever the worker
// could not finish it dead-letters itself, saying what it knows, and acknowledges.

/**
 * Before the terminals are built: a decision still busy at its last receive becomes terminal.
 * - The store was unreachable: nothing is known, and nothing was done. FAILED
 *   (`StoreUnavailable`), dead-lettered and audited; a replay acts on it.
 * - Another invocation holds it: that invocation acts and audits. Dead-lettered with
 *   `InProgressElsewhere` and not audited, so the decision keeps one audit event.
 */
export const setAsideAtLastReceive = (
  tracked: readonly Tracked[],
  deps: WorkerDependencies,
  nowIso: () => string,
): void => {
  for (const t of tracked) {
    if (t.state.kind !== 'busy' || !atLastReceive(t.decision.deliveries, deps.settings)) continue;
    const error = { code: t.state.why, message: t.state.detail };
    t.decision.deliveries[0].log.warn(
      { error },
      'still unfinished at the last receive; dead-lettering it with the reason',
    );
    t.state =
      t.state.why === BusyReason.StoreUnavailable
        ? {
            kind: 'resolved',
            fromStore: false,
            resolution: { outcome: Outcome.Failed, processedAt: nowIso(), attempts: 0, error },
          }
        : { kind: 'setAside', error };
  }
};

/** Error code of a decision dead-lettered because its audit event could not be published. */
export const AUDIT_UNAVAILABLE = 'AuditUnavailable';

/**
 * After the audit: the terminals at their last receive that would come back are dead-lettered
 * instead, and acknowledged once their copy is in the DLQ.
 * - Already copied (REJECTED, FAILED) but not audited: the copy says why; acknowledged as it is.
 * - Resolved (REVOKED, ALREADY_REVOKED, DRY_RUN) but not audited: copied with its outcome and
 *   `AuditUnavailable`. The store keeps the resolution (see `settle`), so its replay is audited
 *   without a second Redshift call.
 * - Copy not sent earlier (REJECTED, FAILED): tried once more.
 *
 * @returns the messages to acknowledge.
 */
export const deadLetterAtLastReceive = async (
  terminals: readonly Terminal[],
  quarantined: ReadonlySet<string>,
  published: ReadonlyMap<string, AuditEntryResult>,
  deps: WorkerDependencies,
  invocation: Invocation,
  nowIso: () => string,
): Promise<Delivery[]> => {
  const acknowledged: Delivery[] = [];
  const toSend: { terminal: Terminal; copy: DeadLetterCopy }[] = [];
  for (const t of terminals) {
    if (!atLastReceive(t.deliveries, deps.settings)) continue;
    const copied = t.quarantine !== undefined && quarantined.has(t.key);
    const audited = t.unaudited === true || published.get(t.key)?.ok === true;
    if (copied && audited) continue;
    const primary = t.deliveries[0] as Delivery;
    if (copied) {
      primary.log.error(
        { audit: published.get(t.key) },
        'audit event not accepted at the last receive; its dead-letter copy stands',
      );
      acknowledged.push(...t.deliveries);
    } else if (t.quarantine) {
      toSend.push({ terminal: t, copy: t.quarantine });
    } else {
      const state = t.tracked?.state;
      if (state?.kind !== 'resolved') continue;
      const audit = published.get(t.key);
      const why =
        audit === undefined
          ? 'no time was left to publish it'
          : audit.ok
            ? 'it was published'
            : `${audit.code}: ${audit.message}`;
      toSend.push({
        terminal: t,
        copy: deadLetterCopy(
          primary,
          state.resolution.outcome,
          {
            code: AUDIT_UNAVAILABLE,
            message: `Redshift answered ${state.resolution.outcome}, but the audit event was not accepted (${why}). A replay publishes it without calling Redshift again.`,
          },
          nowIso(),
        ),
      });
    }
  }
  if (toSend.length === 0) return acknowledged;
  const { finalDeadline: deadline } = invocation;
  // As for every DLQ copy: not without the time to learn whether it arrived (see quarantine).
  if (!deadline.allows(AUDIT_ROUND_BUDGET_MS)) {
    for (const { terminal } of toSend)
      (terminal.deliveries[0] as Delivery).log.error(
        'no time left to dead-letter it at the last receive; SQS will move it without a reason',
      );
    return acknowledged;
  }
  const copies = toSend.map(({ copy }) => copy);
  const results = await deps.queue
    .sendToDeadLetterQueue(copies, deadline.signal())
    .catch((error: unknown) => copies.map(() => ({ ok: false as const, ...errorSummary(error) })));
  toSend.forEach(({ terminal }, index) => {
    const result = results[index];
    const primary = terminal.deliveries[0] as Delivery;
    if (result?.ok) {
      primary.log.warn(
        { errorCode: copies[index]?.attributes['revoker.errorCode']?.stringValue },
        'dead-lettered at the last receive',
      );
      acknowledged.push(...terminal.deliveries);
    } else
      primary.log.error(
        { code: result?.code, error: result?.message },
        'could not dead-letter it at the last receive; SQS will move it without a reason',
      );
  });
  return acknowledged;
};
