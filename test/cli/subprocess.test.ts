/**
 * The real `revoker` bin (bin/revoker.js → tsx → src/cli/index.ts) as a subprocess: exit codes,
 * one-line errors, and the runbook end to end against the local stack with the real worker.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../src/local/stack.js';
import { finished, ourLines, ROOT, revoker, start } from './bin.js';

const EXAMPLES = join(ROOT, 'examples', 'datashares.json');
const SALES_DAILY =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/sales_daily';
const SALES_PII =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/sales_pii';
const NAMESPACE =
  'arn:aws:redshift:us-east-1:111122223333:namespace:2f9c6e7a-1b3d-4c5e-8f9a-0b1c2d3e4f5a';

const request = (eventId: string, dataShareArn: string) =>
  JSON.stringify({
    eventId,
    dataShareArn,
    consumerArn: NAMESPACE,
    policyId: 'pii-exposure-7',
    issuedAt: new Date().toISOString(),
  });

let stack: LocalStack;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  // The worker's first Redshift call for sales_pii is denied: a permanent failure, so FAILED → DLQ.
  stack = await startLocalStack({
    datashares: EXAMPLES,
    withDynamo: false,
    redshiftFaults: {
      failNext: [
        {
          kind: 'accessDenied',
          operation: 'DisassociateDataShareConsumer',
          dataShareArn: SALES_PII,
          count: 1,
        },
      ],
    },
  });
  env = { PATH: process.env.PATH, HOME: process.env.HOME, ...stack.env, LOG_LEVEL: 'warn' };
});

afterAll(async () => {
  await stack?.stop();
});

describe('the revoker bin', () => {
  it('exits 2 with one line on stderr: unknown queue, missing credentials, missing flag', async () => {
    // Prepare
    const missing = `${stack.endpoints.sqs}/000000000000/no-such-queue`;
    const noCredentials = {
      PATH: process.env.PATH,
      HOME: mkdtempSync(join(tmpdir(), 'revoker-home-')),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: 'us-east-1',
    };

    // Act
    const [unknownQueue, credentials, usage] = await Promise.all([
      revoker(['dlq', 'list', '--dlq-url', missing], env),
      revoker(
        ['dlq', 'list', '--dlq-url', missing, '--endpoint-url', stack.endpoints.sqs],
        noCredentials,
      ),
      revoker(['dlq', 'replay', '--dlq-url', stack.queues.deadLetter.url], env),
    ]);

    // Assess
    expect(unknownQueue.code).toBe(2);
    expect(ourLines(unknownQueue.stderr)).toEqual([
      `revoker: queue does not exist: ${missing} — check the URL, the account and --region`,
    ]);
    expect(credentials.code).toBe(2);
    expect(ourLines(credentials.stderr)).toHaveLength(1);
    expect(credentials.stderr).toMatch(/^revoker: no AWS credentials found/m);
    expect(usage.code).toBe(2);
    expect(ourLines(usage.stderr)).toEqual([
      'revoker: --queue-url is required: give it, or --stage NAME (or REVOKER_STAGE) to read SourceQueueUrl from the stack',
    ]);
  });

  it('runs the runbook end to end: send, poll (real worker), list the failure, replay, confirm from the audit trail', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'revoker-'));
    const file = join(dir, 'decisions.jsonl');
    writeFileSync(file, `${request('evt-daily', SALES_DAILY)}\n${request('evt-pii', SALES_PII)}\n`);
    const source = stack.queues.source.url;
    const dlq = stack.queues.deadLetter.url;
    const audit = () => stack.eventBridge.eventsOn('revoker-audit').map((e) => e.detail);
    const waitForAudit = async (count: number) => {
      const until = Date.now() + 15_000;
      while (audit().length < count) {
        if (Date.now() > until) throw new Error(`only ${audit().length} audit event(s)`);
        await delay(50);
      }
    };

    // Act 1: send the decisions, process them with the real worker
    const sent = await revoker(['send', '--queue-url', source, file, '--json'], env);
    const poller = start(
      ['poll', '--queue-url', source, '--function-timeout', '10', '--account', '111122223333'],
      env,
    );
    const polled = finished(poller);
    await waitForAudit(2);

    // Assess 1: one revoked, one failed for good and dead-lettered with its reason
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout).summary).toEqual({ lines: 2, sent: 2, failed: 0 });
    expect(
      audit()
        .map((d) => [d.eventId, d.outcome])
        .sort(),
    ).toEqual([
      ['evt-daily', 'REVOKED'],
      ['evt-pii', 'FAILED'],
    ]);

    // Act 2: find out why, then a refused replay (no terminal, no --yes), then the replay
    const listed = await revoker(['dlq', 'list', '--dlq-url', dlq, '--json'], env);
    const refused = await revoker(['dlq', 'replay', '--dlq-url', dlq, '--queue-url', source], env);
    const replayed = await revoker(
      [
        'dlq',
        'replay',
        '--dlq-url',
        dlq,
        '--queue-url',
        source,
        '--error',
        'AccessDenied',
        '--reason',
        'INC-7: role fixed',
        '--yes',
        '--json',
      ],
      env,
    );
    await waitForAudit(3);
    poller.kill('SIGTERM');
    const pollRun = await polled;

    // Assess 2
    const messages = JSON.parse(listed.stdout).messages as Record<string, unknown>[];
    expect(messages).toEqual([
      expect.objectContaining({ eventId: 'evt-pii', outcome: 'FAILED', errorCode: 'AccessDenied' }),
    ]);
    expect(refused.code).toBe(2);
    expect(ourLines(refused.stderr).at(-1)).toMatch(
      /^revoker: Replay 1 message\(s\) .* stdin is not a terminal; pass --yes/,
    );
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout).summary).toEqual({
      matched: 1,
      replayed: 1,
      sentButNotDeleted: 0,
      failedToSend: 0,
      skipped: 0,
    });
    expect(audit().at(-1)).toMatchObject({
      eventId: 'evt-pii',
      outcome: 'REVOKED',
      replayed: true,
    });
    expect(pollRun.code).toBe(0);
    expect(pollRun.stderr).toContain('stopping: receiving nothing new');
    expect(stack.fauxqs.inspectQueue('revocations-dlq')?.messages.ready).toHaveLength(0);
  });
});
