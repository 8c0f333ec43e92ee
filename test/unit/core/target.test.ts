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

const namespaceTarget: DisassociationTarget = {
  dataShareArn: DATA_SHARE_ARN,
  consumer: { kind: 'namespace', arn: CONSUMER_ARN },
};
const regionTarget: DisassociationTarget = {
  dataShareArn: DATA_SHARE_ARN,
  consumer: { kind: 'region', region: 'eu-central-1' },
};
const accountTarget: DisassociationTarget = {
  dataShareArn: DATA_SHARE_ARN,
  consumer: { kind: 'account' },
};

describe('targetOf', () => {
  it('names the consumer namespace of a request with a consumerArn', () => {
    expect(targetOf(request())).toEqual(namespaceTarget);
  });

  it('names the region of a request with a consumerRegion', () => {
    expect(targetOf(request({ consumerArn: undefined, consumerRegion: 'eu-central-1' }))).toEqual(
      regionTarget,
    );
  });

  it('names the entire account of a request with disassociateEntireAccount', () => {
    expect(targetOf(request({ consumerArn: undefined, disassociateEntireAccount: true }))).toEqual(
      accountTarget,
    );
  });
});

describe('targetKey', () => {
  it('gives each kind of target its own key', () => {
    const keys = [namespaceTarget, regionTarget, accountTarget].map(targetKey);
    expect(new Set(keys).size).toBe(3);
    expect(keys).toEqual([
      `${DATA_SHARE_ARN}|namespace|${CONSUMER_ARN}`,
      `${DATA_SHARE_ARN}|region|eu-central-1`,
      `${DATA_SHARE_ARN}|account`,
    ]);
  });

  it('gives equal targets from different requests the same key, so they can share one call', () => {
    const first = targetOf(request({ eventId: 'a', policyId: 'p1' }));
    const second = targetOf(request({ eventId: 'b', policyId: 'p2', reason: 'other' }));
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
