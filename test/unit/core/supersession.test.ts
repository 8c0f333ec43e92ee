import { describe, expect, it } from 'vitest';
import type { Association } from '../../../src/core/audit.js';
import { isOldDecision } from '../../../src/core/decision-age.js';
import {
  activeAssociationsOf,
  associationChangedAt,
  supersessionOf,
} from '../../../src/core/supersession.js';
import type { DisassociationTarget } from '../../../src/core/target.js';

const SHARE = 'arn:aws:redshift:us-east-1:444455556666:datashare:ns/sales';
const ACCOUNT = '111122223333';
const NAMESPACE = `arn:aws:redshift:us-east-1:${ACCOUNT}:namespace:n1`;
const OTHER_NAMESPACE = `arn:aws:redshift:us-east-1:${ACCOUNT}:namespace:n2`;
const FOREIGN_NAMESPACE = 'arn:aws:redshift:us-east-1:999988887777:namespace:n1';

const target = (consumer: DisassociationTarget['consumer']): DisassociationTarget => ({
  dataShareArn: SHARE,
  consumer,
  accountId: ACCOUNT,
});
const at = (iso: string): Association => ({
  consumerIdentifier: NAMESPACE,
  status: 'ACTIVE',
  createdDate: iso,
  statusChangeDate: iso,
});

describe('isOldDecision', () => {
  const now = Date.parse('2026-11-25T09:00:00Z');
  const fresh = { issuedAtMs: now - 60_000, replayed: false, receiveCount: 1 };

  it('a decision issued within STALE_AFTER_SECONDS, received once and never replayed, is fresh', () => {
    expect(isOldDecision(fresh, now, 300)).toBe(false);
  });

  it('is old when issued earlier than now − STALE_AFTER_SECONDS, replayed, or received more than once', () => {
    expect(isOldDecision({ ...fresh, issuedAtMs: now - 301_000 }, now, 300)).toBe(true);
    expect(isOldDecision({ ...fresh, replayed: true }, now, 300)).toBe(true);
    expect(isOldDecision({ ...fresh, receiveCount: 2 }, now, 300)).toBe(true);
  });

  it('STALE_AFTER_SECONDS=0 checks every decision, even one stamped ahead of our clock', () => {
    expect(isOldDecision({ ...fresh, issuedAtMs: now + 5000 }, now, 0)).toBe(true);
  });
});

describe('activeAssociationsOf', () => {
  const associations: Association[] = [
    { consumerIdentifier: NAMESPACE, status: 'ACTIVE' },
    { consumerIdentifier: NAMESPACE, status: 'DEAUTHORIZED' },
    { consumerIdentifier: OTHER_NAMESPACE, status: 'ACTIVE' },
    { consumerIdentifier: FOREIGN_NAMESPACE, status: 'ACTIVE' },
    { consumerIdentifier: ACCOUNT, status: 'ACTIVE', consumerRegion: 'us-east-1' },
    { consumerIdentifier: ACCOUNT, status: 'ACTIVE', consumerRegion: 'eu-west-1' },
    { consumerIdentifier: '999988887777', status: 'ACTIVE', consumerRegion: 'us-east-1' },
    { consumerIdentifier: ACCOUNT, status: 'ACTIVE' },
  ];

  it('a namespace: its own ACTIVE association only', () => {
    expect(
      activeAssociationsOf(target({ kind: 'namespace', arn: NAMESPACE }), associations),
    ).toEqual([associations[0]]);
  });

  it("a region: the account's ACTIVE region-wide association of that region only", () => {
    expect(
      activeAssociationsOf(target({ kind: 'region', region: 'us-east-1' }), associations),
    ).toEqual([associations[4]]);
  });

  it("the entire account: every ACTIVE association the account owns, its namespaces' included", () => {
    expect(activeAssociationsOf(target({ kind: 'account' }), associations)).toEqual([
      associations[0],
      associations[2],
      associations[4],
      associations[5],
      associations[7],
    ]);
  });
});

describe('supersessionOf', () => {
  const issuedAt = Date.parse('2026-11-25T08:00:00Z');

  it('no ACTIVE association: nothing to revoke', () => {
    expect(supersessionOf(issuedAt, [], 30)).toEqual({ kind: 'noneActive' });
  });

  it('SUPERSEDED when every association changed after issuedAt + the margin, naming the earliest change', () => {
    expect(
      supersessionOf(
        issuedAt,
        [at('2026-11-25T08:45:00Z'), at('2026-11-25T08:00:31Z'), at('2026-11-26T00:00:00Z')],
        30,
      ),
    ).toEqual({
      kind: 'superseded',
      associationChangedAt: '2026-11-25T08:00:31.000Z',
      status: 'ACTIVE',
    });
  });

  it('in force when one association changed at or before issuedAt + the margin, or carries no date', () => {
    expect(
      supersessionOf(issuedAt, [at('2026-11-25T08:45:00Z'), at('2026-11-25T08:00:30Z')], 30),
    ).toEqual({ kind: 'inForce' });
    expect(
      supersessionOf(
        issuedAt,
        [at('2026-11-25T08:45:00Z'), { consumerIdentifier: NAMESPACE, status: 'ACTIVE' }],
        30,
      ),
    ).toEqual({ kind: 'inForce' });
  });

  it('the change of an association is the later of CreatedDate and StatusChangeDate', () => {
    expect(
      associationChangedAt({
        createdDate: '2026-11-25T08:45:00Z',
        statusChangeDate: '2025-01-01T00:00:00Z',
      }),
    ).toBe(Date.parse('2026-11-25T08:45:00Z'));
    expect(associationChangedAt({ statusChangeDate: '2026-11-25T08:45:00Z' })).toBe(
      Date.parse('2026-11-25T08:45:00Z'),
    );
    expect(associationChangedAt({ createdDate: 'not a date' })).toBeNaN();
  });
});
