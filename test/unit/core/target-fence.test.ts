import { describe, expect, it } from 'vitest';
import { DeadLetterAttribute } from '../../../src/core/dead-letter.js';
import { Outcome } from '../../../src/core/outcome.js';
import type { DisassociationTarget } from '../../../src/core/target.js';
import { fenceRefusal, isDataSharePrefix } from '../../../src/core/target-fence.js';
import { processBatch } from '../../../src/worker/process-batch.js';
import { testWorker } from '../../helpers/fakes.js';
import {
  DATASHARE_ARN,
  lambdaContext,
  requestBody,
  sqsEvent,
  sqsRecord,
} from '../../helpers/sqs-records.js';

const PRODUCER = 'arn:aws:redshift:us-east-1:444455556666:datashare:';
const SALES = 'arn:aws:redshift:us-east-1:444455556666:datashare:ns1/sales';
const namespaceTarget: DisassociationTarget = {
  dataShareArn: SALES,
  consumer: { kind: 'namespace', arn: 'arn:aws:redshift:us-east-1:111122223333:namespace:n1' },
  accountId: '111122223333',
};

describe('isDataSharePrefix (ALLOWED_DATASHARES entries)', () => {
  it.each([
    PRODUCER,
    `${PRODUCER}ns1/`,
    `${PRODUCER}ns1/sales`,
    'arn:aws-us-gov:redshift:us-gov-west-1:444455556666:datashare:ns1/',
  ])('accepts %s', (prefix) => {
    expect(isDataSharePrefix(prefix)).toBe(true);
  });

  it.each([
    '',
    '*',
    'arn:aws:redshift:',
    'arn:aws:redshift:us-east-1:444455556666:',
    `${PRODUCER}ns1`,
    'arn:aws:redshift:us-east-1:4444:datashare:',
    'arn:aws:s3:::bucket',
  ])('refuses %j: too broad, ending mid-namespace, or not a datashare ARN', (prefix) => {
    expect(isDataSharePrefix(prefix)).toBe(false);
  });
});

describe('fenceRefusal', () => {
  it('lets a namespace target through with no fence configured', () => {
    expect(fenceRefusal(namespaceTarget, { allowBroadTargets: false }, 'e-1')).toBeUndefined();
  });

  it('refuses a region-wide target unless ALLOW_BROAD_TARGETS, naming the field, the value and what is expected', () => {
    const target: DisassociationTarget = {
      ...namespaceTarget,
      consumer: { kind: 'region', region: 'eu-west-1' },
    };
    const refusal = fenceRefusal(target, { allowBroadTargets: false }, 'e-1');
    expect(refusal).toMatchObject({
      code: 'BroadTargetNotAllowed',
      eventId: 'e-1',
      consumerAccountId: '111122223333',
    });
    expect(refusal?.message).toBe(
      'consumerRegion: expected a consumerArn: region-wide targets are refused unless ALLOW_BROAD_TARGETS is true; given "eu-west-1"',
    );
    expect(fenceRefusal(target, { allowBroadTargets: true }, 'e-1')).toBeUndefined();
  });

  it('refuses an account-wide target unless ALLOW_BROAD_TARGETS', () => {
    const target: DisassociationTarget = { ...namespaceTarget, consumer: { kind: 'account' } };
    expect(fenceRefusal(target, { allowBroadTargets: false }, 'e-1')?.message).toBe(
      'disassociateEntireAccount: expected a consumerArn: account-wide targets are refused unless ALLOW_BROAD_TARGETS is true; given true',
    );
  });

  it('refuses a datashare outside ALLOWED_DATASHARES, listing them; a prefix match lets it through', () => {
    const fence = { allowBroadTargets: false, allowedDataShares: [`${PRODUCER}ns2/`] };
    const refusal = fenceRefusal(namespaceTarget, fence, 'e-1');
    expect(refusal?.code).toBe('DatashareNotAllowed');
    expect(refusal?.message).toBe(
      `dataShareArn: expected a datashare starting with one of ALLOWED_DATASHARES (${PRODUCER}ns2/); given "${SALES}"`,
    );
    expect(
      fenceRefusal(
        namespaceTarget,
        { ...fence, allowedDataShares: [`${PRODUCER}ns2/`, `${PRODUCER}ns1/`] },
        'e-1',
      ),
    ).toBeUndefined();
  });
});

describe('processBatch — the fence acts where requests are prepared', () => {
  it('a broad target without ALLOW_BROAD_TARGETS, and a datashare outside ALLOWED_DATASHARES, are REJECTED, dead-lettered and audited with no Redshift call', async () => {
    // Prepare
    const worker = testWorker({
      settings: { allowedDataShares: [DATASHARE_ARN.slice(0, DATASHARE_ARN.indexOf('/') + 1)] },
    });
    const broad = requestBody({ consumerArn: undefined, disassociateEntireAccount: true });
    const outside = requestBody({
      dataShareArn: 'arn:aws:redshift:us-east-1:444455556666:datashare:other-ns/sales',
    });
    const inside = requestBody();
    // Act
    const response = await processBatch(
      sqsEvent(sqsRecord(broad), sqsRecord(outside), sqsRecord(inside)),
      lambdaContext(worker.deps.clock),
      worker.deps,
    );
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls.map((call) => call.target.dataShareArn)).toEqual([DATASHARE_ARN]);
    expect(worker.revoker.describeCalls).toHaveLength(0);
    const codes = Object.fromEntries(
      worker.audit
        .details()
        .map((detail) => [
          detail.eventId,
          [detail.outcome, (detail.error as { code?: string } | undefined)?.code],
        ]),
    );
    expect(codes).toEqual({
      [broad.eventId as string]: [Outcome.Rejected, 'BroadTargetNotAllowed'],
      [outside.eventId as string]: [Outcome.Rejected, 'DatashareNotAllowed'],
      [inside.eventId as string]: [Outcome.Revoked, undefined],
    });
    expect(
      worker.queue.deadLetters
        .map((copy) => copy.attributes[DeadLetterAttribute.ErrorCode]?.stringValue)
        .sort(),
    ).toEqual(['BroadTargetNotAllowed', 'DatashareNotAllowed']);
  });
});
