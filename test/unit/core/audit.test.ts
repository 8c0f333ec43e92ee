import { describe, expect, it } from 'vitest';
import {
  type AuditDetail,
  MAX_AUDIT_DETAIL_BYTES,
  serializeAuditDetail,
} from '../../../src/core/audit.js';
import { AuditDetailSchema } from '../../../src/core/audit-schema.js';
import { Outcome } from '../../../src/core/outcome.js';
import { CONSUMER_ARN, DATA_SHARE_ARN } from '../../helpers/requests.js';

const detail = (overrides: Partial<AuditDetail> = {}): AuditDetail => ({
  schemaVersion: 1,
  eventId: 'evt-1',
  outcome: Outcome.Revoked,
  dataShareArn: DATA_SHARE_ARN,
  consumer: { arn: CONSUMER_ARN },
  policyId: 'pii-exposure-7',
  reason: null,
  correlationId: null,
  issuedAt: '2026-11-25T08:00:00Z',
  processedAt: '2026-11-25T08:00:02Z',
  latencyMs: 2000,
  attempts: 1,
  receiveCount: 1,
  replayed: false,
  dryRun: false,
  associations: [{ consumerIdentifier: CONSUMER_ARN, status: 'ACTIVE' }],
  messageId: 'msg-1',
  worker: { functionName: 'revoker', functionVersion: '$LATEST', awsRequestId: 'req-1' },
  ...overrides,
});

/** n associations of about 200 bytes each. */
const manyAssociations = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    consumerIdentifier: `arn:aws:redshift:us-east-1:111122223333:namespace:consumer-${String(i).padStart(8, '0')}`,
    status: 'DEAUTHORIZED',
    createdDate: '2026-01-01T00:00:00.000Z',
    statusChangeDate: '2026-11-25T08:00:01.000Z',
  }));

describe('serializeAuditDetail', () => {
  it('serialises a detail of ordinary size as it is, associations included', () => {
    const value = detail();
    expect(serializeAuditDetail(value)).toBe(JSON.stringify(value));
  });

  it('drops the associations and marks associationsTruncated when they would pass the size cap', () => {
    // Prepare
    const value = detail({ associations: manyAssociations(2000) });
    expect(Buffer.byteLength(JSON.stringify(value))).toBeGreaterThan(MAX_AUDIT_DETAIL_BYTES);
    // Act
    const json = serializeAuditDetail(value);
    // Assess
    const parsed = JSON.parse(json);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(MAX_AUDIT_DETAIL_BYTES);
    expect(parsed).not.toHaveProperty('associations');
    expect(parsed.associationsTruncated).toBe(true);
    expect(parsed.eventId).toBe('evt-1');
    expect(AuditDetailSchema.safeParse(parsed).success).toBe(true);
  });

  it('keeps the associations while the detail fits under the cap', () => {
    const value = detail({ associations: manyAssociations(900) });
    expect(Buffer.byteLength(JSON.stringify(value))).toBeLessThanOrEqual(MAX_AUDIT_DETAIL_BYTES);
    expect(JSON.parse(serializeAuditDetail(value)).associations).toHaveLength(900);
  });

  it('keeps the cap under the 256 KB EventBridge entry limit', () => {
    expect(MAX_AUDIT_DETAIL_BYTES).toBeLessThan(256 * 1024);
  });
});

describe('AuditDetailSchema', () => {
  it('accepts the detail the worker builds', () => {
    expect(AuditDetailSchema.safeParse(detail()).success).toBe(true);
  });

  it('accepts a rejection of an unparseable body, with nulls where nothing was known', () => {
    const value = detail({
      eventId: null,
      outcome: Outcome.Rejected,
      dataShareArn: null,
      consumer: null,
      policyId: null,
      issuedAt: null,
      latencyMs: null,
      error: { code: 'MalformedJson', message: '(body): expected a JSON object; given "x"' },
    });
    expect(AuditDetailSchema.safeParse(value).success).toBe(true);
  });

  it('rejects an outcome outside the contract', () => {
    expect(AuditDetailSchema.safeParse({ ...detail(), outcome: 'MAYBE' as Outcome }).success).toBe(
      false,
    );
  });
});
