import { type AuditLogEvent, supersededText } from '../audit-log.js';

/** Outcomes that mean the consumer has no access any more: they have a time to enforce. */
export const ENFORCED_OUTCOMES: ReadonlySet<string> = new Set(['REVOKED', 'ALREADY_REVOKED']);

/** One decision (eventId) of the report, from all its audit events in the range. */
export interface DecisionRow {
  eventId: string | null;
  policyId: string | null;
  /** `<dataShareArn> → <consumer ARN | region R | entire account>`. */
  target: string | null;
  dataShareArn: string | null;
  consumer: string | null;
  account: string | null;
  /** The outcome of its last audit event. */
  outcome: string;
  issuedAt: string | null;
  processedAt: string | null;
  /** processedAt − issuedAt of the enforcing event, ms; null unless REVOKED or ALREADY_REVOKED. */
  timeToEnforceMs: number | null;
  /** Redshift calls, summed over its audit events. */
  attempts: number;
  satisfiedBy: string | null;
  /** SUPERSEDED: the newer grant, `<status> since <association change>`. */
  supersededBy: string | null;
  /** Audit events of the decision that came from an operator's replay. */
  replays: number;
  /** The role (or account) the Redshift call was made as. */
  actor: string | null;
  redshiftRequestId: string | null;
  errorCode: string | null;
  /** Audit events read for the decision (more than 1: a failure then a replay, or a re-audit). */
  auditEvents: number;
}

const consumerText = (consumer: AuditLogEvent['detail']['consumer']): string | null => {
  if (!consumer) return null;
  if (consumer.arn) return consumer.arn;
  if (consumer.region) return `region ${consumer.region}`;
  return consumer.entireAccount ? 'entire account' : null;
};

const lastDefined = <T>(
  events: readonly AuditLogEvent[],
  pick: (e: AuditLogEvent) => T | null | undefined,
): T | null => {
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const event = events[i];
    const value = event ? pick(event) : undefined;
    if (value !== undefined && value !== null) return value;
  }
  return null;
};

const timeOf = (e: AuditLogEvent): number => {
  const processed = e.detail.processedAt ? Date.parse(e.detail.processedAt) : Number.NaN;
  return Number.isFinite(processed) ? processed : e.timestamp;
};

/**
 * Groups result events into one row per decision: by `eventId`, or by message (REJECTED bodies
 * whose eventId could not be read are each their own decision). The last event (by processedAt)
 * gives the outcome; attempts and replays add up over all of them.
 */
export const decisionsOf = (events: readonly AuditLogEvent[]): DecisionRow[] => {
  const groups = new Map<string, AuditLogEvent[]>();
  for (const event of events) {
    const d = event.detail;
    const key =
      typeof d.eventId === 'string' ? `event:${d.eventId}` : `message:${d.messageId ?? event.id}`;
    const group = groups.get(key);
    if (group) group.push(event);
    else groups.set(key, [event]);
  }
  const rows: DecisionRow[] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => timeOf(a) - timeOf(b));
    const final = group.at(-1);
    if (!final) continue;
    const d = final.detail;
    const outcome = d.outcome ?? 'UNKNOWN';
    const issued = d.issuedAt ? Date.parse(d.issuedAt) : Number.NaN;
    const processed = d.processedAt ? Date.parse(d.processedAt) : Number.NaN;
    const latency =
      typeof d.latencyMs === 'number'
        ? d.latencyMs
        : Number.isFinite(issued) && Number.isFinite(processed)
          ? processed - issued
          : null;
    const consumer = consumerText(d.consumer);
    const dataShareArn = d.dataShareArn ?? null;
    rows.push({
      eventId: typeof d.eventId === 'string' ? d.eventId : null,
      policyId: d.policyId ?? null,
      target: dataShareArn ? `${dataShareArn} → ${consumer ?? '?'}` : null,
      dataShareArn,
      consumer,
      account: d.consumerAccountId ?? null,
      outcome,
      issuedAt: d.issuedAt ?? null,
      processedAt: d.processedAt ?? null,
      timeToEnforceMs: ENFORCED_OUTCOMES.has(outcome) ? latency : null,
      attempts: group.reduce((sum, e) => sum + (e.detail.attempts ?? 0), 0),
      satisfiedBy: lastDefined(group, (e) => e.detail.satisfiedBy),
      supersededBy: lastDefined(group, (e) => supersededText(e.detail.supersededBy)),
      replays: group.filter((e) => e.detail.replayed === true).length,
      actor: d.actor ? (d.actor.roleArn ?? d.actor.accountId ?? null) : null,
      redshiftRequestId: lastDefined(group, (e) => e.detail.redshiftRequestId),
      errorCode: d.error?.code ?? null,
      auditEvents: group.length,
    });
  }
  // Oldest decision first: the order an auditor reads a period in.
  return rows.sort(
    (a, b) =>
      (a.processedAt ?? '').localeCompare(b.processedAt ?? '') ||
      (a.eventId ?? '').localeCompare(b.eventId ?? ''),
  );
};
