import { setTimeout as delay } from 'node:timers/promises';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollQueue } from '../../src/cli/commands/poll.js';
import { type Fixture, inspect, requestBody, startFixture, testContext } from './helpers.js';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.stop();
});

const fill = async (queueUrl: string, count: number): Promise<string[]> => {
  const bodies = Array.from({ length: count }, (_, i) => requestBody(`evt-${i}`));
  for (let i = 0; i < count; i += 10) {
    await fixture.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: `m${j}`, MessageBody })),
      }),
    );
  }
  return bodies;
};

/** A handler that takes its time and remembers every body it finished, and how many ran at once. */
const slowHandler = (ms: number) => {
  const finished: string[] = [];
  let running = 0;
  let started = 0;
  const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    running += 1;
    started += 1;
    await delay(ms);
    finished.push(...event.Records.map((r) => r.body));
    running -= 1;
    return { batchItemFailures: [] };
  };
  return {
    handler,
    finished,
    get running() {
      return running;
    },
    get started() {
      return started;
    },
  };
};

const waitFor = async (condition: () => boolean, timeoutMs = 10_000) => {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await delay(10);
  }
};

describe('revoker poll', () => {
  it('drains a queue through the event source mapping, then stops when told', async () => {
    // Prepare
    const queueUrl = await fixture.createQueue('source', { VisibilityTimeout: '30' });
    const bodies = await fill(queueUrl, 25);
    const worker = slowHandler(20);
    const controller = new AbortController();
    const t = testContext(fixture.sqs, { signal: controller.signal, json: true });

    // Act
    const polling = pollQueue(
      t.context,
      { queueUrl, batchSize: 5, concurrency: 2, functionTimeoutSeconds: 5, waitTimeSeconds: 1 },
      worker.handler,
    );
    await waitFor(
      () => worker.finished.length === 25 && inspect(fixture, queueUrl).inflight.length === 0,
    );
    controller.abort();
    const result = await polling;

    // Assess: each message handled exactly once and deleted
    expect([...worker.finished].sort()).toEqual([...bodies].sort());
    expect(result.exitCode).toBe(0);
    expect(result.stats).toMatchObject({ recordsInvoked: 25, messagesDeleted: 25 });
    expect(inspect(fixture, queueUrl).ready).toHaveLength(0);
    expect(t.json<{ stats: { messagesDeleted: number } }>().stats.messagesDeleted).toBe(25);
  });

  it('on a stop, finishes the batches in flight, receives nothing new and loses nothing', async () => {
    // Prepare
    const queueUrl = await fixture.createQueue('source', { VisibilityTimeout: '30' });
    const bodies = await fill(queueUrl, 30);
    const worker = slowHandler(300);
    const controller = new AbortController();
    const t = testContext(fixture.sqs, { signal: controller.signal });

    // Act: stop while two batches are being handled
    const polling = pollQueue(
      t.context,
      { queueUrl, batchSize: 5, concurrency: 2, functionTimeoutSeconds: 5, waitTimeSeconds: 1 },
      worker.handler,
    );
    await waitFor(() => worker.running === 2);
    const startedAtStop = worker.started;
    controller.abort();
    const result = await polling;

    // Assess: the in-flight batches completed and were deleted; nothing else was received
    expect(worker.running).toBe(0);
    expect(worker.started).toBe(startedAtStop);
    expect(worker.finished).toHaveLength(startedAtStop * 5);
    expect(result.stats.messagesDeleted).toBe(worker.finished.length);
    const left = inspect(fixture, queueUrl);
    const remaining = [...left.ready, ...left.inflight.map((entry) => entry.message)].map(
      (m) => m.body,
    );
    expect([...remaining, ...worker.finished].sort()).toEqual([...bodies].sort());
    expect(t.stderr.join('\n')).toContain(
      'stopping: receiving nothing new, finishing the batches in flight',
    );
  });

  it('fails with exit code 2 and one line when the queue does not exist', async () => {
    // Act
    const missing = `${fixture.server.address}/000000000000/nope`;
    const failure = await pollQueue(
      testContext(fixture.sqs).context,
      { queueUrl: missing },
      slowHandler(1).handler,
    ).catch((e) => e);

    // Assess
    expect(failure).toMatchObject({ exitCode: 2 });
    expect(failure.message).toContain(`queue does not exist: ${missing}`);
  });

  it('refuses a function timeout longer than the queue visibility timeout (Lambda would)', async () => {
    // Prepare
    const queueUrl = await fixture.createQueue('short', { VisibilityTimeout: '10' });

    // Act
    const failure = await pollQueue(
      testContext(fixture.sqs).context,
      { queueUrl, functionTimeoutSeconds: 30 },
      slowHandler(1).handler,
    ).catch((e) => e);

    // Assess
    expect(failure).toMatchObject({ exitCode: 2, name: 'UsageError' });
    expect(failure.message).toContain('functionTimeoutMs must not exceed the visibility timeout');
  });
});
