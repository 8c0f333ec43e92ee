import { describe, expect, it } from 'vitest';
import type { RevocationRequest } from '../../../src/core/request.js';
import {
  callRegionOf,
  consumerForAudit,
  type DisassociationTarget,
  targetKey,
  targetOf,
} from '../../../src/core/target.js';
import {
  CONSUMER_ARN,
  DATA_SHARE_ARN,
  SERVERLESS_CONSUMER_ARN,
  validRequest,
} from '../../helpers/requests.js';

const request = (overrides: Record<string, unknown> = {}): RevocationRequest =>
  JSON.parse(JSON.stringify(validRequest(overrides))) as RevocationRequest;

const OWN = '999988887777';
const namespaceTarget: DisassociationTarget = {
  dataShareArn: DATA_SHARE_ARN,
  consumer: { kind: 'namespace', arn: CONSUMER_ARN },
  accountId: '111122223333',
};
const regionTarget: DisassociationTarget = {
  dataShareArn: DATA_SHARE_ARN,
  consumer: { kind: 'region', region: 'eu-central-1' },
  accountId: OWN,
};
const accountTarget: DisassociationTarget = {
  dataShareArn: DATA_SHARE_ARN,
  consumer: { kind: 'account' },
  accountId: OWN,
};

describe('targetOf', () => {
  it('names the consumer namespace of a request with a consumerArn', () => {
    expect(targetOf(request(), OWN)).toEqual(namespaceTarget);
  });

  it('names the region of a request with a consumerRegion', () => {
    expect(
      targetOf(request({ consumerArn: undefined, consumerRegion: 'eu-central-1' }), OWN),
    ).toEqual(regionTarget);
  });

  it('names the entire account of a request with disassociateEntireAccount', () => {
    expect(
      targetOf(request({ consumerArn: undefined, disassociateEntireAccount: true }), OWN),
    ).toEqual(accountTarget);
  });

  it("acts in the namespace ARN's own account, whatever the worker's", () => {
    expect(targetOf(request(), OWN).accountId).toBe('111122223333');
    expect(targetOf(request({ consumerArn: SERVERLESS_CONSUMER_ARN }), OWN).accountId).toBe(
      '111122223333',
    );
  });

  it('acts in consumerAccountId for region- and account-wide targets', () => {
    const regionWide = request({
      consumerArn: undefined,
      consumerRegion: 'eu-central-1',
      consumerAccountId: '222233334444',
    });
    expect(targetOf(regionWide, OWN)).toEqual({ ...regionTarget, accountId: '222233334444' });
  });
});

describe('targetKey across accounts', () => {
  it('tells apart the same region, and the whole of two accounts, on one datashare', () => {
    const other = '222233334444';
    expect(targetKey({ ...regionTarget, accountId: other })).not.toBe(targetKey(regionTarget));
    expect(targetKey({ ...accountTarget, accountId: other })).not.toBe(targetKey(accountTarget));
  });
});

describe('targetKey', () => {
  it('gives each kind of target its own key', () => {
    const keys = [namespaceTarget, regionTarget, accountTarget].map(targetKey);
    expect(new Set(keys).size).toBe(3);
    expect(keys).toEqual([
      `${DATA_SHARE_ARN}|namespace|${CONSUMER_ARN}`,
      `${DATA_SHARE_ARN}|region|${OWN}|eu-central-1`,
      `${DATA_SHARE_ARN}|account|${OWN}`,
    ]);
  });

  it('gives equal targets from different requests the same key, so they can share one call', () => {
    const first = targetOf(request({ eventId: 'a', policyId: 'p1' }), OWN);
    const second = targetOf(request({ eventId: 'b', policyId: 'p2', reason: 'other' }), OWN);
    expect(targetKey(first)).toBe(targetKey(second));
  });

  it('tells apart the same consumer on two datashares', () => {
    const other = { ...namespaceTarget, dataShareArn: `${DATA_SHARE_ARN}2` };
    expect(targetKey(other)).not.toBe(targetKey(namespaceTarget));
  });
});

describe('callRegionOf', () => {
  it("calls the region of a provisioned consumer namespace, which is the consumer's own", () => {
    expect(callRegionOf(namespaceTarget, 'us-east-1')).toBe('eu-west-1');
  });

  it('calls the region of a serverless consumer namespace', () => {
    const target: DisassociationTarget = {
      dataShareArn: DATA_SHARE_ARN,
      consumer: { kind: 'namespace', arn: SERVERLESS_CONSUMER_ARN },
      accountId: '111122223333',
    };
    expect(callRegionOf(target, 'us-east-1')).toBe('ap-southeast-2');
  });

  it("calls the worker's region for a region or account target", () => {
    expect(callRegionOf(regionTarget, 'us-east-1')).toBe('us-east-1');
    expect(callRegionOf(accountTarget, 'us-east-1')).toBe('us-east-1');
  });

  it("falls back to the worker's region when the namespace ARN names no region", () => {
    const target: DisassociationTarget = {
      dataShareArn: DATA_SHARE_ARN,
      consumer: { kind: 'namespace', arn: 'not-an-arn' },
      accountId: OWN,
    };
    expect(callRegionOf(target, 'us-east-1')).toBe('us-east-1');
  });
});

describe('consumerForAudit', () => {
  it('shows each kind of consumer the way the audit schema names it', () => {
    expect(consumerForAudit(namespaceTarget.consumer)).toEqual({ arn: CONSUMER_ARN });
    expect(consumerForAudit(regionTarget.consumer)).toEqual({ region: 'eu-central-1' });
    expect(consumerForAudit(accountTarget.consumer)).toEqual({ entireAccount: true });
  });
});
