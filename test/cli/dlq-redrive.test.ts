import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redriveDlq } from '../../src/cli/commands/dlq-redrive.js';
import { type Fixture, startFixture, testContext } from './helpers.js';
import { type MoveTaskFake, startMoveTaskFake } from './move-task-fake.js';

let fixture: Fixture;
let fake: MoveTaskFake;
let sqs: SQSClient;

beforeAll(async () => {
  fixture = await startFixture();
  fake = await startMoveTaskFake(fixture.server.address);
  sqs = new SQSClient({
    endpoint: fake.endpoint,
    useQueueUrlAsEndpoint: false,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

beforeEach(() => {
  fake.calls.length = 0;
});

afterAll(async () => {
  sqs.destroy();
  await fake.stop();
  await fixture.stop();
});

const arnOf = (queueUrl: string) =>
  `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').pop()}`;
const running = (moved: number) => ({
  TaskHandle: 'task-handle-1',
  Status: 'RUNNING',
  ApproximateNumberOfMessagesMoved: moved,
  ApproximateNumberOfMessagesToMove: 5,
});

describe('revoker dlq redrive (StartMessageMoveTask against a recorded-response fake)', () => {
  it('starts a move task from the DLQ ARN (GetQueueAttributes) and follows it to completion', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    const queueUrl = await fixture.createQueue('source');
    fake.listResults = [
      [running(0)],
      [running(3)],
      [
        {
          Status: 'COMPLETED',
          ApproximateNumberOfMessagesMoved: 5,
          ApproximateNumberOfMessagesToMove: 5,
        },
      ],
    ];
    const t = testContext(sqs);

    // Act
    const result = await redriveDlq(t.context, {
      dlqUrl,
      toQueueUrl: queueUrl,
      ratePerSecond: 50,
      cancel: false,
      pollIntervalMs: 1,
    });

    // Assess
    expect(fake.calls[0]).toEqual({
      operation: 'StartMessageMoveTask',
      input: {
        SourceArn: arnOf(dlqUrl),
        DestinationArn: arnOf(queueUrl),
        MaxNumberOfMessagesPerSecond: 50,
      },
    });
    expect(t.stderr.filter((line) => line.startsWith('redrive:'))).toEqual([
      'redrive: RUNNING 0/5 moved',
      'redrive: RUNNING 3/5 moved',
      'redrive: COMPLETED 5/5 moved',
    ]);
    expect(result).toMatchObject({ exitCode: 0, status: 'COMPLETED', moved: 5 });
  });

  it('exits 1 with the failure reason when the task fails', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    fake.listResults = [
      [
        {
          Status: 'FAILED',
          ApproximateNumberOfMessagesMoved: 1,
          FailureReason: 'AWS.SimpleQueueService.NonExistentQueue',
        },
      ],
    ];
    const t = testContext(sqs);

    // Act
    const result = await redriveDlq(t.context, { dlqUrl, cancel: false, pollIntervalMs: 1 });

    // Assess
    expect(result.exitCode).toBe(1);
    expect(t.stdout[0]).toBe('redrive FAILED: 1/? moved — AWS.SimpleQueueService.NonExistentQueue');
    expect(fake.calls[0]?.input).toEqual({ SourceArn: arnOf(dlqUrl) });
  });

  it('--cancel cancels the running task by its handle', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    fake.listResults = [[running(3)]];
    const t = testContext(sqs);

    // Act
    const result = await redriveDlq(t.context, { dlqUrl, cancel: true });

    // Assess
    expect(fake.calls.map((c) => c.operation)).toEqual([
      'ListMessageMoveTasks',
      'CancelMessageMoveTask',
    ]);
    expect(fake.calls[1]?.input).toEqual({ TaskHandle: 'task-handle-1' });
    expect(result).toMatchObject({ exitCode: 0, moved: 3 });
  });

  it('--cancel says so when no task is running', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    fake.listResults = [[{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 5 }]];
    const t = testContext(sqs);

    // Act
    await redriveDlq(t.context, { dlqUrl, cancel: true });

    // Assess
    expect(t.stdout[0]).toBe(`no running move task on ${arnOf(dlqUrl)}: nothing to cancel`);
    expect(fake.calls.map((c) => c.operation)).toEqual(['ListMessageMoveTasks']);
  });
});
