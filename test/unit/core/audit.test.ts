import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_DETAIL_TYPE,
  AUDIT_TEXT_CAPS,
  type AuditDetail,
  MAX_AUDIT_DETAIL_BYTES,
  serializeAuditDetail,
} from '../../../src/core/audit.js';
import { AuditDetailSchema } from '../../../src/core/audit-schema.js';
import { putEventsEntryBytes } from '../../../src/core/batch-size.js';
import { Outcome } from '../../../src/core/outcome.js';
import { PUT_EVENTS_MAX_REQUEST_BYTES } from '../../../src/worker/publish-audit.js';
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

  it('keeps the first associations that fit under the size cap, and counts the ones it left out', () => {
    // Prepare
    const all = manyAssociations(2000);
    const value = detail({ associations: all });
    // Act
    const json = serializeAuditDetail(value);
    // Assess
    const parsed = JSON.parse(json);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(MAX_AUDIT_DETAIL_BYTES);
    expect(parsed.associations.length).toBeGreaterThan(50);
    expect(parsed.associations).toEqual(all.slice(0, parsed.associations.length));
    expect(parsed.associationsOmitted).toBe(2000 - parsed.associations.length);
    expect(parsed.associationsTruncated).toBe(true);
    expect(parsed.eventId).toBe('evt-1');
    expect(v.safeParse(AuditDetailSchema, parsed).success).toBe(true);
  });

  it('fills the cap: one more association would not have fitted', () => {
    const json = serializeAuditDetail(detail({ associations: manyAssociations(500) }));
    const parsed = JSON.parse(json);
    const oneMore = JSON.stringify({
      ...parsed,
      associations: manyAssociations(parsed.associations.length + 1),
    });
    expect(Buffer.byteLength(oneMore)).toBeGreaterThan(MAX_AUDIT_DETAIL_BYTES);
  });

  it('keeps every association while the detail fits under the cap, with no truncation marks', () => {
    const value = detail({ associations: manyAssociations(60) });
    const parsed = JSON.parse(serializeAuditDetail(value));
    expect(parsed.associations).toHaveLength(60);
    expect(parsed).not.toHaveProperty('associationsTruncated');
    expect(parsed).not.toHaveProperty('associationsOmitted');
    expect(parsed).not.toHaveProperty('truncatedFields');
  });

  it('caps every free-text field by bytes, ends it in "…" and lists it in truncatedFields', () => {
    // Prepare
    const long = (char: string) => char.repeat(10_000);
    const value = detail({
      reason: long('é'),
      policyId: long('p'),
      correlationId: long('"'),
      error: { code: long('C'), message: long('😀') },
      worker: { functionName: long('f'), functionVersion: '1', awsRequestId: 'req-1' },
    });
    // Act
    const parsed = JSON.parse(serializeAuditDetail(value));
    // Assess
    expect(parsed.truncatedFields.sort()).toEqual(
      [
        'correlationId',
        'error.code',
        'error.message',
        'policyId',
        'reason',
        'worker.functionName',
      ].sort(),
    );
    const escapedBytes = (text: string) => Buffer.byteLength(JSON.stringify(text)) - 2;
    expect(escapedBytes(parsed.reason)).toBeLessThanOrEqual(AUDIT_TEXT_CAPS.reason);
    expect(escapedBytes(parsed.error.message)).toBeLessThanOrEqual(AUDIT_TEXT_CAPS.errorMessage);
    expect(escapedBytes(parsed.correlationId)).toBeLessThanOrEqual(AUDIT_TEXT_CAPS.identifier);
    expect(parsed.reason.endsWith('…')).toBe(true);
    expect(parsed.error.message).toMatch(/^(😀)+…$/u);
    expect(v.safeParse(AuditDetailSchema, parsed).success).toBe(true);
  });

  it("leaves a valid request's identifiers whole, even fully escaped", () => {
    const eventId = '"'.repeat(256);
    const parsed = JSON.parse(serializeAuditDetail(detail({ eventId, satisfiedBy: eventId })));
    expect(parsed.eventId).toBe(eventId);
    expect(parsed.satisfiedBy).toBe(eventId);
    expect(parsed).not.toHaveProperty('truncatedFields');
  });

  it('fits any detail under the cap, whatever its text and however many associations', () => {
    const text = fc.string({ unit: 'binary', maxLength: 20_000 });
    fc.assert(
      fc.property(
        fc.record({
          eventId: text,
          policyId: text,
          reason: text,
          correlationId: text,
          message: text,
          code: text,
          arn: text,
          count: fc.nat({ max: 3000 }),
        }),
        (f) => {
          // Prepare
          const value = detail({
            eventId: f.eventId,
            dataShareArn: f.arn,
            consumer: { arn: f.arn },
            policyId: f.policyId,
            reason: f.reason,
            correlationId: f.correlationId,
            satisfiedBy: f.eventId,
            issuedAt: f.code,
            messageId: f.code,
            bodySha256: f.code,
            error: { code: f.code, message: f.message },
            associations: manyAssociations(f.count).map((a) => ({ ...a, status: f.code })),
            worker: { functionName: f.code, functionVersion: f.code, awsRequestId: f.code },
          });
          // Act
          const json = serializeAuditDetail(value);
          // Assess
          expect(Buffer.byteLength(json, 'utf8')).toBeLessThanOrEqual(MAX_AUDIT_DETAIL_BYTES);
          expect(v.safeParse(AuditDetailSchema, JSON.parse(json)).success).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps ten details at the cap, with their Source, DetailType and ARNs, inside one PutEvents request', () => {
    const entry = putEventsEntryBytes({
      source: 'governance.datashare-revoker',
      detailType: AUDIT_DETAIL_TYPE,
      detail: 'x'.repeat(MAX_AUDIT_DETAIL_BYTES),
      resources: [DATA_SHARE_ARN, CONSUMER_ARN],
    });
    expect(10 * entry).toBeLessThan(PUT_EVENTS_MAX_REQUEST_BYTES);
  });
});

describe('AuditDetailSchema', () => {
  it('accepts the detail the worker builds', () => {
    expect(v.safeParse(AuditDetailSchema, detail()).success).toBe(true);
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
    expect(v.safeParse(AuditDetailSchema, value).success).toBe(true);
  });

  it('rejects an outcome outside the contract', () => {
    expect(
      v.safeParse(AuditDetailSchema, { ...detail(), outcome: 'MAYBE' as Outcome }).success,
    ).toBe(false);
  });
});
