import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRequests } from '../../src/cli/commands/send.js';
import {
  type Fixture,
  inspect,
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

const jsonl = (...lines: string[]) => `${lines.join('\n')}\n`;

describe('revoker send', () => {
  it('rejects the whole file, naming every bad line and why, and sends nothing', async () => {
    // Prepare
    const queueUrl = await fixture.createQueue('source');
    const text = jsonl(
      requestBody('evt-1'),
      '{"eventId": "evt-2", oops',
      '',
      requestBody('evt-4', { consumerArn: 'arn:aws:s3:::bucket' }),
      requestBody('evt-5', { consumerRegion: 'us-east-1' }),
      requestBody('evt-6'),
    );
    const t = testContext(fixture.sqs, { json: true });

    // Act
    const result = await sendRequests(t.context, { queueUrl, text, sourceName: 'decisions.jsonl' });

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.summary).toEqual({ lines: 5, sent: 0, failed: 0 });
    expect(result.problems.map((p) => [p.line, p.code])).toEqual([
      [2, 'MalformedJson'],
      [4, 'SchemaViolation'],
      [5, 'SchemaViolation'],
    ]);
    expect(t.stderr[0]).toBe('rejected decisions.jsonl: 3 of 5 line(s) invalid; nothing was sent');
    expect(t.stderr).toContain(
      'line 4: SchemaViolation: consumerArn: expected a consumer namespace ARN: arn:<partition>:redshift:<region>:<account>:namespace:<id> or arn:<partition>:redshift-serverless:<region>:<account>:namespace/<id>; given "arn:aws:s3:::bucket"',
    );
    expect(t.stderr).toContain(
      'line 5: SchemaViolation: target: expected exactly one of consumerArn, consumerRegion or disassociateEntireAccount: true; given consumerArn and consumerRegion',
    );
    expect(inspect(fixture, queueUrl).ready).toHaveLength(0);
  });

  it('sends a valid file in batches of 10 and prints a summary', async () => {
    // Prepare
    const queueUrl = await fixture.createQueue('source');
    const bodies = Array.from({ length: 23 }, (_, i) => requestBody(`evt-${i}`));
    const t = testContext(fixture.sqs);

    // Act
    const result = await sendRequests(t.context, {
      queueUrl,
      text: jsonl(...bodies),
      sourceName: 'decisions.jsonl',
    });

    // Assess
    expect(result.exitCode).toBe(0);
    expect(t.stdout).toEqual(['lines 23, sent 23, failed 0']);
    expect(readyBodies(fixture, queueUrl)).toEqual([...bodies].sort());
  });

  it('retries refused entries once, then reports what SQS still refuses by line number', async () => {
    // Prepare: SQS refuses line 2 once (as if throttled); line 3 is too large for this queue
    const queueUrl = await fixture.createQueue('small', { MaximumMessageSize: '1024' });
    const sqs = fixture.newClient();
    let refusedOnce = false;
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as SendMessageBatchCommandInput;
        if (context.commandName !== 'SendMessageBatchCommand' || refusedOnce) return next(args);
        refusedOnce = true;
        input.Entries = (input.Entries ?? []).filter((e) => e.Id !== 'l2');
        const result = await next(args);
        const output = result.output as { Failed?: unknown[] };
        output.Failed = [
          ...(output.Failed ?? []),
          { Id: 'l2', SenderFault: false, Code: 'RequestThrottled', Message: 'slow down' },
        ];
        return result;
      },
      { step: 'initialize', name: 'throttleOnce' },
    );
    const bodies = [
      requestBody('evt-1'),
      requestBody('evt-2'),
      requestBody('evt-3', { reason: 'x'.repeat(1000) }),
    ];
    const t = testContext(sqs);

    // Act
    const result = await sendRequests(t.context, {
      queueUrl,
      text: jsonl(...bodies),
      sourceName: 'stdin',
    });

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.summary).toEqual({ lines: 3, sent: 2, failed: 1 });
    expect(result.problems).toEqual([
      expect.objectContaining({ line: 3, code: 'InvalidParameterValue' }),
    ]);
    expect(readyBodies(fixture, queueUrl)).toEqual([bodies[0], bodies[1]].sort());
  });

  it('warns when two lines carry the same eventId (the worker acts once)', async () => {
    // Prepare
    const queueUrl = await fixture.createQueue('source');
    const t = testContext(fixture.sqs);

    // Act
    await sendRequests(t.context, {
      queueUrl,
      text: jsonl(requestBody('evt-1'), requestBody('evt-1')),
      sourceName: 'f',
    });

    // Assess
    expect(t.stderr).toContain(
      'warning: line 2 repeats eventId evt-1 of line 1: the worker will act once',
    );
  });

  it('fails with exit code 2 when the queue does not exist, before sending anything', async () => {
    // Act
    const missing = `${fixture.server.address}/000000000000/nope`;
    const failure = await sendRequests(testContext(fixture.sqs).context, {
      queueUrl: missing,
      text: jsonl(requestBody('evt-1')),
      sourceName: 'f',
    }).catch((e) => e);

    // Assess
    expect(failure).toMatchObject({ exitCode: 2 });
  });
});
