import { describe, expect, it } from 'vitest';
import { DeadLetterAttribute } from '../../../src/core/dead-letter.js';
import { Outcome } from '../../../src/core/outcome.js';
import { parseMessageBody } from '../../../src/core/parse.js';
import { processBatch } from '../../../src/worker/process-batch.js';
import { RedshiftGates } from '../../../src/worker/redshift-gate.js';
import { type TestWorker, testWorker, throttle } from '../../helpers/fakes.js';
import {
  DATASHARE_ARN,
  lambdaContext,
  requestBody,
  sqsEvent,
  sqsRecord,
  WORKER_ACCOUNT_ID,
} from '../../helpers/sqs-records.js';

const SPOKE = '222233334444';
const UNLISTED = '999988887777';
const namespaceIn = (account: string, id = 'n1') =>
  `arn:aws:redshift:us-east-1:${account}:namespace:${id}`;

const hub = (accounts: ReadonlySet<string> | '*' = new Set([SPOKE])) =>
  testWorker({ settings: { consumerRole: { accounts } } });

const run = (worker: TestWorker, ...records: ReturnType<typeof sqsRecord>[]) =>
  processBatch(sqsEvent(...records), lambdaContext(worker.deps.clock), worker.deps);

describe('request v1: consumerAccountId', () => {
  it('is optional and must be 12 digits', () => {
    expect(parseMessageBody(JSON.stringify(requestBody({ consumerAccountId: '12' }))).ok).toBe(
      false,
    );
    expect(
      parseMessageBody(
        JSON.stringify(
          requestBody({
            consumerArn: undefined,
            consumerRegion: 'us-east-1',
            consumerAccountId: SPOKE,
          }),
        ),
      ).ok,
    ).toBe(true);
  });

  it('is REJECTED (SchemaViolation) when it contradicts the account of consumerArn, naming both values', () => {
    const result = parseMessageBody(
      JSON.stringify(requestBody({ consumerArn: namespaceIn(SPOKE), consumerAccountId: UNLISTED })),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejection.code).toBe('SchemaViolation');
    expect(result.rejection.message).toContain(UNLISTED);
    expect(result.rejection.message).toContain(SPOKE);
  });
});

describe('processBatch — accounts', () => {
  it('single-account mode: a target in another account is REJECTED (ConsumerAccountNotAllowed), dead-lettered and audited, with no Redshift call', async () => {
    // Prepare
    const worker = testWorker();
    const body = requestBody({ consumerArn: namespaceIn(SPOKE) });
    // Act
    const response = await run(worker, sqsRecord(body));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(
      worker.queue.deadLetters[0]?.attributes[DeadLetterAttribute.ErrorCode]?.stringValue,
    ).toBe('ConsumerAccountNotAllowed');
    expect(worker.audit.details()).toEqual([
      expect.objectContaining({
        eventId: body.eventId,
        outcome: Outcome.Rejected,
        error: expect.objectContaining({ code: 'ConsumerAccountNotAllowed' }),
      }),
    ]);
  });

  it('hub mode: a target outside CONSUMER_ACCOUNTS is REJECTED with no STS or Redshift call', async () => {
    const worker = hub();
    const body = requestBody({
      consumerArn: undefined,
      disassociateEntireAccount: true,
      consumerAccountId: UNLISTED,
    });
    await run(worker, sqsRecord(body));
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.details()[0]).toMatchObject({
      outcome: Outcome.Rejected,
      error: { code: 'ConsumerAccountNotAllowed' },
    });
  });

  it('hub mode: a consumer account is revoked as its consumer role, our own account as ourselves; the audit names the account, the actor and the request id', async () => {
    // Prepare
    const worker = hub();
    const spokeBody = requestBody({ consumerArn: namespaceIn(SPOKE) });
    const ownBody = requestBody({ consumerArn: namespaceIn(WORKER_ACCOUNT_ID) });
    const actor = { accountId: SPOKE, roleArn: `arn:aws:iam::${SPOKE}:role/spoke` };
    worker.revoker.script(`${DATASHARE_ARN}|namespace|${namespaceIn(SPOKE)}`, {
      outcome: Outcome.Revoked,
      associations: [],
      actor,
      requestId: 'req-spoke',
    });
    // Act
    const response = await run(worker, sqsRecord(spokeBody), sqsRecord(ownBody));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls.map((call) => [call.target.accountId, call.assumeRole])).toEqual([
      [SPOKE, true],
      [WORKER_ACCOUNT_ID, false],
    ]);
    expect(worker.audit.details().find((d) => d.eventId === spokeBody.eventId)).toMatchObject({
      consumerAccountId: SPOKE,
      actor,
      redshiftRequestId: 'req-spoke',
    });
  });

  it('hub mode with "*": any account is acted in', async () => {
    const worker = hub('*');
    await run(worker, sqsRecord(requestBody({ consumerArn: namespaceIn(UNLISTED) })));
    expect(worker.revoker.calls).toHaveLength(1);
  });

  it('rate control per control plane: a throttle in one account never slows calls to another', async () => {
    // Prepare
    const worker = hub();
    const gates = new RedshiftGates({
      maxConcurrency: 5,
      clock: worker.deps.clock,
      sleep: worker.deps.sleep,
    });
    worker.deps.gate = gates;
    const spokeBody = requestBody({ consumerArn: namespaceIn(SPOKE) });
    worker.revoker.script(`${DATASHARE_ARN}|namespace|${namespaceIn(SPOKE)}`, throttle());
    const before = gates.for(WORKER_ACCOUNT_ID, 'us-east-1').ratePerSecond;
    // Act
    await run(worker, sqsRecord(spokeBody), sqsRecord(requestBody()));
    // Assess
    expect(gates.for(SPOKE, 'us-east-1').ratePerSecond).toBeLessThan(before);
    expect(gates.for(WORKER_ACCOUNT_ID, 'us-east-1').ratePerSecond).toBeGreaterThanOrEqual(before);
  });
});
