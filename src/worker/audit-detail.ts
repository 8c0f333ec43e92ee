import { createHash } from 'node:crypto';
import type { AuditDetail } from '../core/audit.js';
import { Outcome } from '../core/outcome.js';
import type { Rejection } from '../core/parse.js';
import { consumerForAudit } from '../core/target.js';
import type { Resolution } from './ports.js';
import type { Decision, Delivery } from './prepare.js';

export interface WorkerIdentity {
  functionName: string;
  functionVersion: string;
  awsRequestId: string;
}

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

/** The audit event of a decision that reached a terminal outcome. */
export const decisionAuditDetail = (
  decision: Decision,
  resolution: Resolution,
  worker: WorkerIdentity,
  dryRunConfigured: boolean,
): AuditDetail => {
  const { request } = decision;
  const primary: Delivery = decision.deliveries[0];
  const issuedAtMs = Date.parse(request.issuedAt);
  return {
    schemaVersion: 1,
    eventId: decision.eventId,
    outcome: resolution.outcome,
    dataShareArn: request.dataShareArn,
    consumer: consumerForAudit(decision.target.consumer),
    policyId: request.policyId,
    reason: request.reason ?? null,
    correlationId: request.correlationId ?? null,
    issuedAt: request.issuedAt,
    processedAt: resolution.processedAt,
    latencyMs: Date.parse(resolution.processedAt) - issuedAtMs,
    attempts: resolution.attempts,
    receiveCount: primary.receiveCount,
    replayed: decision.deliveries.some((delivery) => delivery.replayed),
    dryRun: resolution.outcome === Outcome.DryRun || request.dryRun === true || dryRunConfigured,
    ...optional('error', resolution.error),
    ...optional(
      'associations',
      resolution.associations?.length ? resolution.associations : undefined,
    ),
    ...optional('satisfiedBy', resolution.satisfiedBy),
    ...optional('supersededBy', resolution.supersededBy),
    consumerAccountId: decision.target.accountId,
    actor: resolution.actor ?? null,
    redshiftRequestId: resolution.redshiftRequestId ?? null,
    messageId: primary.record.messageId,
    worker,
  };
};

/** The audit event of a message whose body could not be accepted. */
export const rejectionAuditDetail = (
  delivery: Delivery,
  rejection: Rejection,
  processedAt: string,
  worker: WorkerIdentity,
): AuditDetail => ({
  schemaVersion: 1,
  eventId: rejection.eventId,
  outcome: Outcome.Rejected,
  dataShareArn: null,
  consumer: null,
  policyId: null,
  reason: null,
  correlationId: null,
  issuedAt: null,
  processedAt,
  latencyMs: null,
  attempts: 0,
  receiveCount: delivery.receiveCount,
  replayed: delivery.replayed,
  dryRun: false,
  error: { code: rejection.code, message: rejection.message },
  // Null when the body could not be read; no Redshift call was made for a rejection.
  consumerAccountId: rejection.consumerAccountId ?? null,
  actor: null,
  redshiftRequestId: null,
  messageId: delivery.record.messageId,
  bodySha256: createHash('sha256')
    .update(delivery.record.body ?? '', 'utf8')
    .digest('hex'),
  worker,
});
