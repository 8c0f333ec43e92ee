import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDlq } from '../../src/cli/commands/dlq-list.js';
import {
  CONSUMER,
  DATA_SHARE_FINANCE,
  DATA_SHARE_SALES,
  deadLetter,
  type Fixture,
  inspect,
  producerAttributes,
  requestBody,
  startFixture,
  testContext,
} from './helpers.js';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.stop();
});

describe('revoker dlq list', () => {
  it('shows eventId, datashare, consumer, outcome, error, receives, age and replays from the revoker.* attributes', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    await deadLetter(fixture, dlqUrl, requestBody('evt-1'));
    await deadLetter(fixture, dlqUrl, requestBody('evt-2', { dataShareArn: DATA_SHARE_FINANCE }), {
      original: producerAttributes(6), // 6 + 6 > 10: folded by the worker
      reason: { outcome: 'FAILED', errorCode: 'ThrottlingException', receiveCount: 5 },
    });
    const t = testContext(fixture.sqs, { json: true });

    // Act
    const result = await listDlq(t.context, { dlqUrl, waitTimeSeconds: 0 });

    // Assess
    expect(result.exitCode).toBe(0);
    const byEvent = Object.fromEntries(result.entries.map((e) => [e.eventId, e]));
    expect(byEvent['evt-1']).toMatchObject({
      dataShareArn: DATA_SHARE_SALES,
      consumer: CONSUMER,
      outcome: 'FAILED',
      errorCode: 'InvalidNamespaceFault',
      errorMessage: 'The namespace does not exist',
      receiveCount: 5,
      replayCount: 0,
      redrivenBySqs: false,
    });
    expect(byEvent['evt-1']?.ageSeconds).toBeGreaterThanOrEqual(89);
    expect(byEvent['evt-2']).toMatchObject({
      dataShareArn: DATA_SHARE_FINANCE,
      errorCode: 'ThrottlingException',
      attributeProblems: [],
    });
    expect(t.json<{ count: number }>().count).toBe(2);
  });

  it('prints a table with one row per message', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    await deadLetter(fixture, dlqUrl, requestBody('evt-table'));
    const t = testContext(fixture.sqs);

    // Act
    await listDlq(t.context, { dlqUrl, waitTimeSeconds: 0 });

    // Assess
    const [table = '', footer = ''] = t.stdout;
    const [header, row] = table.split('\n');
    expect(header).toMatch(
      /^EVENT ID\s+DATASHARE\s+CONSUMER\s+OUTCOME\s+ERROR\s+RECEIVES\s+AGE\s+REPLAYS$/,
    );
    expect(row).toMatch(
      /^evt-table\s+arn:aws:redshift:.*FAILED\s+InvalidNamespaceFault: The namespace does not exist\s+5\s+1m\s+0$/,
    );
    expect(footer).toContain('1 message(s)');
  });

  it('shows "no reason recorded" for a message SQS moved after maxReceiveCount (fauxqs sets no DeadLetterQueueSourceArn)', async () => {
    // Prepare: a source queue whose redrive policy moves a message on its second receive
    const dlqUrl = await fixture.createQueue('dlq');
    const dlqArn = `arn:aws:sqs:us-east-1:000000000000:${dlqUrl.split('/').pop()}`;
    const sourceUrl = await fixture.createQueue('source', {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: '1' }),
    });
    await fixture.sqs.send(
      new SendMessageCommand({ QueueUrl: sourceUrl, MessageBody: requestBody('evt-sqs') }),
    );
    for (let i = 0; i < 2; i++) {
      await fixture.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: sourceUrl, VisibilityTimeout: 0 }),
      );
    }
    const t = testContext(fixture.sqs);

    // Act
    const result = await listDlq(t.context, { dlqUrl, waitTimeSeconds: 0 });

    // Assess: AWS would add DeadLetterQueueSourceArn (see dlq-entry.test.ts for that case)
    expect(result.entries).toHaveLength(1);
    expect(result.entries[0]).toMatchObject({ eventId: 'evt-sqs', outcome: null, errorCode: null });
    expect(t.stdout[0]).toContain('no reason recorded');
  });

  it('leaves the DLQ as it found it: same messages, all visible again', async () => {
    // Prepare: more than one receive's worth
    const dlqUrl = await fixture.createQueue('dlq');
    for (let i = 0; i < 23; i++) await deadLetter(fixture, dlqUrl, requestBody(`evt-${i}`));
    const before = inspect(fixture, dlqUrl)
      .ready.map((m) => [m.messageId, m.body])
      .sort();
    const t = testContext(fixture.sqs);

    // Act
    const result = await listDlq(t.context, { dlqUrl, waitTimeSeconds: 0 });

    // Assess: receive counts aside, nothing changed
    const after = inspect(fixture, dlqUrl);
    expect(result.entries).toHaveLength(23);
    expect(after.inflight).toHaveLength(0);
    expect(after.ready.map((m) => [m.messageId, m.body]).sort()).toEqual(before);
    expect(result.notReleased).toBe(0);
  });

  it('stops at --max and says more may remain, releasing everything it held', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    for (let i = 0; i < 15; i++) await deadLetter(fixture, dlqUrl, requestBody(`evt-${i}`));
    const t = testContext(fixture.sqs);

    // Act
    const result = await listDlq(t.context, { dlqUrl, max: 4, waitTimeSeconds: 0 });

    // Assess
    expect(result.entries).toHaveLength(4);
    expect(t.stdout.join('\n')).toContain('stopped at --max 4');
    expect(inspect(fixture, dlqUrl).inflight).toHaveLength(0);
    expect(inspect(fixture, dlqUrl).ready).toHaveLength(15);
  });

  it('fails with exit code 2 and one line when the queue does not exist', async () => {
    // Prepare
    const t = testContext(fixture.sqs);
    const missing = `${fixture.server.address}/000000000000/no-such-queue`;

    // Act
    const failure = await listDlq(t.context, { dlqUrl: missing, waitTimeSeconds: 0 }).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toMatchObject({
      exitCode: 2,
      message: `queue does not exist: ${missing} — check the URL, the account and --region`,
    });
  });
});
