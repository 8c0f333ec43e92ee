import type { DeleteMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReplayOptions, replayDlq } from '../../src/cli/commands/dlq-replay.js';
import { ReplayAttribute } from '../../src/cli/message-attributes.js';
import { DeadLetterAttribute } from '../../src/core/dead-letter.js';
import {
  DATA_SHARE_FINANCE,
  DATA_SHARE_SALES,
  deadLetter,
  type Fixture,
  inspect,
  producerAttributes,
  producerAttributesAsSqs,
  readyBodies,
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

const queues = async () => ({
  dlqUrl: await fixture.createQueue('dlq'),
  queueUrl: await fixture.createQueue('source'),
});

const options = (
  urls: { dlqUrl: string; queueUrl: string },
  overrides: Partial<ReplayOptions> = {},
): ReplayOptions => ({
  ...urls,
  filter: {},
  dryRun: false,
  yes: true,
  policy: { maxReplays: 3, force: false },
  waitTimeSeconds: 0,
  ...overrides,
});

/** Both queues' messages (id and body), visible or not: what a replay may change. */
const snapshot = (urls: { dlqUrl: string; queueUrl: string }) =>
  [urls.dlqUrl, urls.queueUrl].map((url) => {
    const { ready, inflight, delayed } = inspect(fixture, url);
    return {
      ready: ready.map((m) => `${m.messageId} ${m.body}`).sort(),
      inflight: inflight.length,
      delayed: delayed.length,
    };
  });

describe('revoker dlq replay', () => {
  it('sends the original body and attributes back (unfolded), stamped, and deletes what was sent', async () => {
    // Prepare: 2 originals stay top-level in the DLQ; 6 and 8 were folded by the worker
    const urls = await queues();
    await deadLetter(fixture, urls.dlqUrl, requestBody('evt-2'), {
      original: producerAttributes(2),
    });
    await deadLetter(fixture, urls.dlqUrl, requestBody('evt-6'), {
      original: producerAttributes(6),
    });
    await deadLetter(fixture, urls.dlqUrl, requestBody('evt-8'), {
      original: producerAttributes(8),
    });
    const t = testContext(fixture.sqs);

    // Act
    const result = await replayDlq(t.context, options(urls, { reason: 'INC-42: fixed' }));

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.summary).toEqual({
      matched: 3,
      replayed: 3,
      sentButNotDeleted: 0,
      failedToSend: 0,
      skipped: 0,
    });
    expect(inspect(fixture, urls.dlqUrl).ready).toHaveLength(0);
    expect(inspect(fixture, urls.dlqUrl).inflight).toHaveLength(0);
    const moved = inspect(fixture, urls.queueUrl).ready;
    expect(moved.map((m) => m.messageId).sort()).toEqual(
      result.results.map((r) => r.newMessageId).sort(),
    );
    for (const [eventId, originals] of [
      ['evt-2', 2],
      ['evt-6', 6],
      ['evt-8', 8],
    ] as const) {
      const message = moved.find((m) => m.body === requestBody(eventId));
      const attributes = message?.messageAttributes ?? {};
      expect(Object.keys(attributes).length).toBeLessThanOrEqual(10);
      expect(attributes[DeadLetterAttribute.Outcome]).toBeUndefined();
      expect(attributes[DeadLetterAttribute.ErrorCode]).toBeUndefined();
      expect(attributes[ReplayAttribute.ReplayCount]?.StringValue).toBe('1');
      expect(attributes[ReplayAttribute.ReplayedBy]?.StringValue).toBe('alice');
      expect(attributes[ReplayAttribute.ReplayReason]?.StringValue).toBe('INC-42: fixed');
      expect(Date.parse(attributes[ReplayAttribute.ReplayedAt]?.StringValue ?? '')).toBeGreaterThan(
        0,
      );
      const fits = originals + 4 <= 10;
      expect(attributes[DeadLetterAttribute.OriginalAttributes] === undefined).toBe(fits);
      if (fits) {
        for (const [name, value] of Object.entries(producerAttributesAsSqs(originals))) {
          expect({ name, ...attributes[name] }).toMatchObject({
            name,
            DataType: value.DataType,
            ...(value.StringValue && { StringValue: value.StringValue }),
          });
        }
        // fauxqs keeps binary values as the base64 text of the wire protocol
        expect(String(attributes.attr0?.BinaryValue)).toBe(
          Buffer.from([0, 1, 2, 250]).toString('base64'),
        );
      } else {
        // Folded exactly as the worker folds (binary as base64), for the next unfolding
        const folded = attributes[DeadLetterAttribute.OriginalAttributes]?.StringValue ?? '';
        expect(JSON.parse(folded)).toEqual(producerAttributes(originals));
      }
    }
  });

  it.each([
    [
      '--error',
      { errorCode: 'ThrottlingException' },
      ['evt-throttled-sales', 'evt-throttled-finance'],
    ],
    [
      '--datashare (an ARN prefix)',
      { dataShare: DATA_SHARE_FINANCE.split('/')[0] },
      ['evt-throttled-finance', 'evt-denied-finance'],
    ],
    [
      '--datashare (a whole ARN)',
      { dataShare: DATA_SHARE_SALES },
      ['evt-throttled-sales', 'evt-denied-sales'],
    ],
    ['--event-id', { eventId: 'evt-denied-sales' }, ['evt-denied-sales']],
    [
      '--error with --datashare',
      { errorCode: 'AccessDenied', dataShare: DATA_SHARE_FINANCE },
      ['evt-denied-finance'],
    ],
  ])('filter %s moves exactly the matching messages', async (_name, filter, expected) => {
    // Prepare
    const urls = await queues();
    for (const [eventId, dataShareArn, errorCode] of [
      ['evt-throttled-sales', DATA_SHARE_SALES, 'ThrottlingException'],
      ['evt-throttled-finance', DATA_SHARE_FINANCE, 'ThrottlingException'],
      ['evt-denied-sales', DATA_SHARE_SALES, 'AccessDenied'],
      ['evt-denied-finance', DATA_SHARE_FINANCE, 'AccessDenied'],
    ]) {
      await deadLetter(fixture, urls.dlqUrl, requestBody(eventId ?? '', { dataShareArn }), {
        reason: { errorCode: errorCode ?? '' },
      });
    }
    const t = testContext(fixture.sqs);

    // Act
    const result = await replayDlq(t.context, options(urls, { filter }));

    // Assess
    const eventIdsIn = (url: string) =>
      readyBodies(fixture, url).map((body) => (JSON.parse(body) as { eventId: string }).eventId);
    expect(eventIdsIn(urls.queueUrl).sort()).toEqual([...expected].sort());
    expect(eventIdsIn(urls.dlqUrl)).toHaveLength(4 - expected.length);
    expect(eventIdsIn(urls.dlqUrl)).not.toContain(expected[0]);
    expect(result.summary.matched).toBe(expected.length);
  });

  it('--max moves at most N of the matching messages', async () => {
    // Prepare
    const urls = await queues();
    for (let i = 0; i < 7; i++) await deadLetter(fixture, urls.dlqUrl, requestBody(`evt-${i}`));
    const t = testContext(fixture.sqs);

    // Act
    const result = await replayDlq(t.context, options(urls, { max: 3 }));

    // Assess
    expect(result.summary.replayed).toBe(3);
    expect(inspect(fixture, urls.queueUrl).ready).toHaveLength(3);
    expect(inspect(fixture, urls.dlqUrl).ready).toHaveLength(4);
  });

  it('--dry-run shows what would move and changes nothing', async () => {
    // Prepare
    const urls = await queues();
    for (let i = 0; i < 12; i++) await deadLetter(fixture, urls.dlqUrl, requestBody(`evt-${i}`));
    const before = snapshot(urls);
    const t = testContext(fixture.sqs, { answer: 'no-tty' });

    // Act
    const result = await replayDlq(t.context, options(urls, { dryRun: true, yes: false }));

    // Assess
    expect(snapshot(urls)).toEqual(before);
    expect(result.plan).toHaveLength(12);
    expect(result.summary).toMatchObject({ matched: 12, replayed: 0 });
    expect(t.questions).toEqual([]);
    expect(t.stdout.join('\n')).toMatch(/evt-0\s+arn:aws:redshift.*\s+replay/);
    expect(t.stderr.join('\n')).toContain('dry run: nothing was sent, deleted or changed');
  });

  it('refuses a message replayed --max-replays times already (loop guard) unless --force', async () => {
    // Prepare: a message that came back after 3 replays (the worker kept revoker.replayCount)
    const urls = await queues();
    const looping = {
      [ReplayAttribute.ReplayCount]: { dataType: 'Number', stringValue: '3' },
    };
    await deadLetter(fixture, urls.dlqUrl, requestBody('evt-loop'), { original: looping });
    await deadLetter(fixture, urls.dlqUrl, requestBody('evt-fresh'));

    // Act
    const guarded = await replayDlq(testContext(fixture.sqs).context, options(urls));

    // Assess
    expect(guarded.summary).toMatchObject({ matched: 2, replayed: 1, skipped: 1 });
    expect(guarded.exitCode).toBe(0);
    expect(readyBodies(fixture, urls.dlqUrl)).toEqual([requestBody('evt-loop')]);
    expect(inspect(fixture, urls.dlqUrl).inflight).toHaveLength(0);

    // Act: a higher guard lets it through; so does --force
    const forced = await replayDlq(
      testContext(fixture.sqs).context,
      options(urls, { policy: { maxReplays: 3, force: true } }),
    );

    // Assess
    expect(forced.summary).toMatchObject({ matched: 1, replayed: 1, skipped: 0 });
    const replayed = inspect(fixture, urls.queueUrl).ready.find(
      (m) => m.body === requestBody('evt-loop'),
    );
    expect(replayed?.messageAttributes?.[ReplayAttribute.ReplayCount]?.StringValue).toBe('4');
  });

  it('survives a send failure halfway: what SQS refused stays in the DLQ, visible; nothing is lost or duplicated', async () => {
    // Prepare: the source queue takes at most 1 KiB; two valid bodies are larger (the DLQ took them)
    const dlqUrl = await fixture.createQueue('dlq');
    const queueUrl = await fixture.createQueue('small-source', { MaximumMessageSize: '1024' });
    const bodies = Array.from({ length: 14 }, (_, i) =>
      requestBody(`evt-${i}`, i === 3 || i === 11 ? { reason: 'x'.repeat(1000) } : {}),
    );
    for (const body of bodies) await deadLetter(fixture, dlqUrl, body);
    const t = testContext(fixture.sqs);

    // Act
    const result = await replayDlq(t.context, options({ dlqUrl, queueUrl }));

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.summary).toEqual({
      matched: 14,
      replayed: 12,
      sentButNotDeleted: 0,
      failedToSend: 2,
      skipped: 0,
    });
    const inSource = readyBodies(fixture, queueUrl);
    const inDlq = readyBodies(fixture, dlqUrl);
    expect(inDlq).toEqual([bodies[11], bodies[3]].sort());
    expect(inspect(fixture, dlqUrl).inflight).toHaveLength(0);
    expect(inSource).toHaveLength(12);
    expect([...inSource, ...inDlq].sort()).toEqual([...bodies].sort());
    expect(result.results.filter((r) => r.status === 'failedToSend')[0]?.detail).toContain(
      'InvalidParameterValue',
    );
    expect(t.stdout.join('\n')).toContain('failed to send (still in the DLQ');
  });

  it('reports a message sent but not deleted, with its eventId, and exits 1', async () => {
    // Prepare: SQS refuses the DLQ delete of evt-stuck (both attempts)
    const urls = await queues();
    const stuckId = await deadLetter(fixture, urls.dlqUrl, requestBody('evt-stuck'));
    await deadLetter(fixture, urls.dlqUrl, requestBody('evt-ok'));
    const sqs = fixture.newClient();
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'DeleteMessageBatchCommand') return next(args);
        const input = args.input as DeleteMessageBatchCommandInput;
        const handles = inspect(fixture, urls.dlqUrl).inflight;
        const stuckHandle = handles.find((h) => h.message.messageId === stuckId)?.receiptHandle;
        const refused = (input.Entries ?? []).filter((e) => e.ReceiptHandle === stuckHandle);
        input.Entries = (input.Entries ?? []).filter((e) => e.ReceiptHandle !== stuckHandle);
        const result =
          input.Entries.length > 0
            ? await next(args)
            : { output: { Successful: [] }, response: {} };
        const output = result.output as { Failed?: unknown[] };
        output.Failed = refused.map((e) => ({
          Id: e.Id,
          SenderFault: true,
          Code: 'ReceiptHandleIsInvalid',
          Message: 'simulated refusal',
        }));
        return result as Awaited<ReturnType<typeof next>>;
      },
      { step: 'initialize', name: 'refuseStuckDelete' },
    );
    const t = testContext(sqs);

    // Act
    const result = await replayDlq(t.context, options(urls));

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.summary).toMatchObject({ matched: 2, replayed: 1, sentButNotDeleted: 1 });
    expect(readyBodies(fixture, urls.queueUrl)).toEqual(
      [requestBody('evt-ok'), requestBody('evt-stuck')].sort(),
    );
    expect(inspect(fixture, urls.dlqUrl).inflight.map((h) => h.message.messageId)).toEqual([
      stuckId,
    ]);
    expect(t.stdout.join('\n')).toMatch(/sent but not deleted[\s\S]*eventId evt-stuck/);
  });

  it('asks before moving anything; without a terminal and without --yes it refuses', async () => {
    // Prepare
    const urls = await queues();
    await deadLetter(fixture, urls.dlqUrl, requestBody('evt-1'));
    const before = snapshot(urls);
    const noTty = testContext(fixture.sqs, { answer: 'no-tty' });
    const saysNo = testContext(fixture.sqs, { answer: false });

    // Act
    const refused = await replayDlq(noTty.context, options(urls, { yes: false })).catch((e) => e);
    const declined = await replayDlq(saysNo.context, options(urls, { yes: false })).catch((e) => e);

    // Assess
    expect(refused).toMatchObject({ exitCode: 2, name: 'ConfirmationRefusedError' });
    expect(refused.message).toContain('stdin is not a terminal');
    expect(declined).toMatchObject({ exitCode: 2, message: 'replay cancelled: nothing was moved' });
    expect(saysNo.questions).toEqual([
      `Replay 1 message(s) from ${urls.dlqUrl} to ${urls.queueUrl}?`,
    ]);
    expect(snapshot(urls)).toEqual(before);
  });

  it('moves only what the operator confirmed, not messages that arrived meanwhile', async () => {
    // Prepare: a new matching message lands in the DLQ while the operator reads the plan
    const urls = await queues();
    await deadLetter(fixture, urls.dlqUrl, requestBody('evt-planned'));
    const t = testContext(fixture.sqs, { answer: true });
    const confirm = t.context.confirm;
    t.context.confirm = async (question) => {
      await deadLetter(fixture, urls.dlqUrl, requestBody('evt-late'));
      return confirm(question);
    };

    // Act
    const result = await replayDlq(t.context, options(urls, { yes: false }));

    // Assess
    expect(result.summary.replayed).toBe(1);
    expect(readyBodies(fixture, urls.queueUrl)).toEqual([requestBody('evt-planned')]);
    expect(readyBodies(fixture, urls.dlqUrl)).toEqual([requestBody('evt-late')]);
  });

  it('fails with exit code 2 and one line when --queue-url does not exist, holding nothing', async () => {
    // Prepare
    const urls = await queues();
    await deadLetter(fixture, urls.dlqUrl, requestBody('evt-1'));
    const missing = `${fixture.server.address}/000000000000/nope`;

    // Act
    const failure = await replayDlq(
      testContext(fixture.sqs).context,
      options({ ...urls, queueUrl: missing }),
    ).catch((e) => e);

    // Assess
    expect(failure).toMatchObject({ exitCode: 2 });
    expect(failure.message).toBe(
      `queue does not exist: ${missing} — check the URL, the account and --region`,
    );
    expect(inspect(fixture, urls.dlqUrl).inflight).toHaveLength(0);
  });
});
