/**
 * status, trace and report in-process (`main(argv)`) against the local stack found by
 * `--stage local`: every format, flag and failure path, with audit events, DLQ copies and store
 * items written as the worker writes them. (console.test.ts runs them through the bin.)
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { toSqsAttribute } from '../../src/adapters/sqs.js';
import { main } from '../../src/cli/index.js';
import { deadLetterAttributes } from '../../src/core/dead-letter.js';
import { targetKey } from '../../src/core/target.js';
import {
  dynamoDbClientFor,
  LOCAL_STAGE,
  type LocalStack,
  localClientConfig,
  sqsClientFor,
  startLocalStack,
} from '../../src/local/stack.js';
import { CONSUMER, DATA_SHARE_SALES, requestBody } from './helpers.js';

let stack: LocalStack;
const NOW = Date.now();

const detail = (eventId: string, outcome: string, minutesAgo: number, extra = {}) => ({
  schemaVersion: 1,
  eventId,
  outcome,
  dataShareArn: DATA_SHARE_SALES,
  consumer: { arn: CONSUMER },
  consumerAccountId: '111122223333',
  policyId: 'pii-exposure-7',
  issuedAt: new Date(NOW - minutesAgo * 60_000 - 4000).toISOString(),
  processedAt: new Date(NOW - minutesAgo * 60_000).toISOString(),
  latencyMs: 4000,
  attempts: 1,
  receiveCount: 1,
  replayed: false,
  dryRun: false,
  messageId: `m-${eventId}-${minutesAgo}`,
  actor: { accountId: '111122223333', roleArn: null },
  redshiftRequestId: `req-${eventId}`,
  ...extra,
});

beforeAll(async () => {
  stack = await startLocalStack();
  for (const [name, value] of Object.entries(stack.env)) vi.stubEnv(name, value);
  const events = new EventBridgeClient({
    ...localClientConfig(stack),
    endpoint: stack.endpoints.eventBridge,
  });
  const entries = [
    detail('evt-1', 'FAILED', 20, { error: { code: 'AccessDenied', message: 'denied' } }),
    detail('evt-1', 'REVOKED', 10, { replayed: true, attempts: 1 }),
    detail('evt-2', 'ALREADY_REVOKED', 5, { satisfiedBy: 'evt-1', attempts: 0, actor: null }),
    detail('evt-4', 'SUPERSEDED', 3, {
      attempts: 0,
      actor: null,
      supersededBy: { associationChangedAt: '2026-11-27T10:14:03.000Z', status: 'ACTIVE' },
    }),
    {
      ...detail('unreadable', 'REJECTED', 4),
      eventId: null,
      error: { code: 'MalformedJson', message: 'x' },
    },
  ].map((d) => ({
    EventBusName: 'revoker-audit',
    Source: LOCAL_STAGE.auditEventSource,
    DetailType: 'Datashare Revocation Result',
    Time: new Date(Date.parse(d.processedAt)),
    Detail: JSON.stringify(d),
  }));
  entries.push({
    EventBusName: 'revoker-audit',
    Source: LOCAL_STAGE.auditEventSource,
    DetailType: 'Datashare Revoker Paused',
    Time: new Date(NOW - 60_000),
    Detail: JSON.stringify({ reason: 'breaker' }),
  });
  await events.send(new PutEventsCommand({ Entries: entries }));
  events.destroy();
  // A line in the log group that is not an audit envelope.
  stack.logs.putLogEvent(LOCAL_STAGE.auditLogGroup, {
    logStreamName: 'stray',
    timestamp: NOW - 30_000,
    message: 'not json',
  });
  // evt-3 failed for good: its DLQ copy, stamped as a replay that failed again.
  const sqs = sqsClientFor(stack);
  const attributes = deadLetterAttributes(
    { 'revoker.replayCount': { dataType: 'Number', stringValue: '1' } },
    {
      outcome: 'FAILED',
      errorCode: 'InvalidNamespaceFault',
      errorMessage: 'The namespace does not exist',
      sourceMessageId: 'source-3',
      receiveCount: 5,
      failedAt: new Date(NOW - 120_000).toISOString(),
    },
  );
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.queues.deadLetter.url,
      MessageBody: requestBody('evt-3'),
      MessageAttributes: {
        ...Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [name, toSqsAttribute(value)]),
        ),
        'revoker.replayedBy': { DataType: 'String', StringValue: 'alice' },
        'revoker.replayedAt': {
          DataType: 'String',
          StringValue: new Date(NOW - 600_000).toISOString(),
        },
        'revoker.replayReason': { DataType: 'String', StringValue: 'INC-1' },
      },
    }),
  );
  sqs.destroy();
  // The store as the worker leaves it for evt-1: completed, its target confirmed.
  const dynamo = dynamoDbClientFor(stack);
  const key = targetKey({
    dataShareArn: DATA_SHARE_SALES,
    consumer: { kind: 'namespace', arn: CONSUMER },
    accountId: '111122223333',
  });
  await dynamo.send(
    new PutItemCommand({
      TableName: 'revoker-idempotency',
      Item: {
        id: { S: 'event#evt-1' },
        status: { S: 'COMPLETED' },
        resolution: { S: JSON.stringify({ outcome: 'REVOKED', attempts: 1 }) },
        leaseUntil: { N: '0' },
        expiration: { N: String(Math.floor(NOW / 1000) + 86_400) },
      },
    }),
  );
  await dynamo.send(
    new PutItemCommand({
      TableName: 'revoker-idempotency',
      Item: {
        id: { S: `target#${key}` },
        confirmedAt: { N: String(NOW - 600_000) },
        eventId: { S: 'evt-1' },
        expiration: { N: String(Math.floor(NOW / 1000) + 86_400) },
      },
    }),
  );
  dynamo.destroy();
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await stack?.stop();
});

/** Runs `revoker ...args` in-process; returns the exit code and what it wrote. */
const revoker = async (args: string[], overrides: Parameters<typeof main>[1] = {}) => {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'revoker', ...args], { env: stack.env, ...overrides });
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
};

describe('revoker status', () => {
  it('shows the queues, the DLQ by error code, the last hour of audit and the alarms in ALARM', async () => {
    // Act
    const text = await revoker(['status', '--stage', 'local']);
    const json = await revoker(['status', '--stage', 'local', '--json']);

    // Assess
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^source queue {2}0 visible, 0 in flight, 0 delayed; oldest 0s$/m);
    expect(text.stdout).toMatch(/^DLQ {11}1 message\(s\): InvalidNamespaceFault 1$/m);
    expect(text.stdout).toMatch(
      /^audit, 1 h {4}.*; last .* SUPERSEDED evt-4; last control event .* Datashare Revoker Paused$/m,
    );
    expect(text.stdout).toMatch(/^alarms {8}datashare-revoker-local-dlq-not-empty \(since /m);
    const status = JSON.parse(json.stdout);
    expect(status.audit.value.byOutcome).toEqual({
      FAILED: 1,
      REVOKED: 1,
      ALREADY_REVOKED: 1,
      SUPERSEDED: 1,
      REJECTED: 1,
    });
  });

  it('redraws with --watch until stopped, one JSON document per line with --json', async () => {
    // Prepare: the first pause stops the watch, as Ctrl-C would
    const controller = new AbortController();
    const sleeps: number[] = [];

    // Act
    const run = await revoker(['status', '--stage', 'local', '--watch', '2', '--json'], {
      signal: controller.signal,
      sleep: async (ms) => {
        sleeps.push(ms);
        controller.abort();
      },
    });

    // Assess
    expect(run.code).toBe(0);
    expect(sleeps).toEqual([2000]);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ stage: 'local' });
  });

  it('says which part could not be read and exits 1, showing the others', async () => {
    // Prepare: the log group read is throttled; no alarm topic without a stage
    // (more than the SDK's three attempts: the CLI's clients keep the SDK's standard retries)
    stack.logs.failNextCalls(5);

    // Act
    const run = await revoker([
      'status',
      '--queue-url',
      stack.queues.source.url,
      '--dlq-url',
      stack.queues.deadLetter.url,
      '--log-group',
      LOCAL_STAGE.auditLogGroup,
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^audit, 1 h {4}unknown: FilterLogEvents failed on .*ThrottlingException/m,
    );
    expect(run.stdout).toMatch(/^alarms {8}unknown: no alarm topic: give --alarm-topic-arn/m);
    expect(run.stdout).toMatch(
      /^worker {8}function \(not given\); event source mapping not read \(no function or queue\)$/m,
    );
    expect(run.stdout).toMatch(/^DLQ {11}1 message\(s\)/m);
  });
});

describe('revoker status: the worker', () => {
  it('shows the mapping paused after revoker pause --stage local, and the breaker open with what tripped it', async () => {
    // Prepare: the breaker's record as the worker leaves it when it opens
    const dynamo = dynamoDbClientFor(stack);
    const openedAt = NOW - 90_000;
    await dynamo.send(
      new PutItemCommand({
        TableName: 'revoker-idempotency',
        Item: {
          id: { S: 'breaker#revocations' },
          version: { N: '3' },
          state: {
            S: JSON.stringify({
              reservations: [],
              open: {
                openedAt,
                revocationsInWindow: 2,
                firstRevocationAt: openedAt - 1000,
                maxRevocations: 2,
                windowSeconds: 60,
                trippedBy: {
                  eventId: 'evt-9',
                  target: 'x',
                  dataShareArn: DATA_SHARE_SALES,
                  policyId: 'pii-exposure-7',
                  messageId: 'm9',
                },
              },
            }),
          },
        },
      }),
    );
    dynamo.destroy();

    // Act
    const paused = await revoker(['pause', '--stage', 'local', '--reason', 'INC-5']);
    const status = await revoker(['status', '--stage', 'local']);
    const resumed = await revoker(['resume', '--stage', 'local', '--reason', 'INC-5 done']);
    const after = await revoker(['status', '--stage', 'local', '--json']);

    // Assess
    expect(paused.code).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(
        `^worker {8}function ${LOCAL_STAGE.functionName}; mapping \\S+ Disabl(ed|ing) \\(paused`,
        'm',
      ),
    );
    expect(status.stdout).toContain(
      `breaker       OPEN since ${new Date(openedAt).toISOString()}: 2 revocations in 60 s (max 2), tripped by evt-9 (policy pii-exposure-7); revoker resume closes it`,
    );
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('breaker closed: it had opened at');
    const worker = JSON.parse(after.stdout).worker;
    expect(worker.breaker).toEqual({ ok: true, value: expect.objectContaining({ open: false }) });
    expect(worker.mappings.value[0].state).toMatch(/^Enabl(ed|ing)$/);
  });
});

describe('revoker trace', () => {
  it("tells a decision's story: audit events, store record and the target's confirmation", async () => {
    // Act
    const text = await revoker(['trace', 'evt-1', '--stage', 'local']);
    const json = await revoker(['trace', 'evt-1', '--stage', 'local', '--json']);

    // Assess
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^eventId evt-1 \(audit .* → .*\)$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[1])).toEqual([
      'request',
      'audit',
      'audit',
      'store',
      'store',
    ]);
    expect(text.stdout).toContain('audited FAILED; AccessDenied: denied; attempts 1, receive 1');
    expect(text.stdout).toContain('target confirmed revoked by evt-1');
    expect(text.stdout).toMatch(
      /store: COMPLETED, resolution \{"outcome":"REVOKED","attempts":1\}, expires /,
    );
    const story = JSON.parse(json.stdout);
    expect(story.store.target.byEventId).toBe('evt-1');
    expect(story.auditEvents[1]).toMatchObject({ replayed: true, redshiftRequestId: 'req-evt-1' });
  });

  it('shows DLQ copies and their replays; exits 1 when nothing is known', async () => {
    // Act
    const copy = await revoker(['trace', 'evt-3', '--stage', 'local']);
    const none = await revoker(['trace', 'no-such', '--stage', 'local', '--since', '2026-01-01']);
    const superseded = await revoker(['trace', 'evt-4', '--stage', 'local']);
    const noTable = await revoker([
      'trace',
      'evt-2',
      '--log-group',
      LOCAL_STAGE.auditLogGroup,
      '--dlq-url',
      stack.queues.deadLetter.url,
    ]);

    // Assess
    expect(copy.code).toBe(0);
    expect(copy.stdout).toMatch(/replay\s+replayed by alice: INC-1 \(replay 1\)/);
    expect(copy.stdout).toMatch(
      /dlq\s+dead-lettered FAILED InvalidNamespaceFault: The namespace does not exist \(copy .*, receive 5, 1 earlier replay\(s\)\)/,
    );
    expect(copy.stdout).toContain('store: no record (never claimed, expired, or forgotten');
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('nothing found: check the eventId, --since and the stage');
    expect(noTable.code).toBe(0);
    expect(noTable.stdout).toContain('satisfied by evt-1');
    expect(superseded.stdout).toContain(
      'audited SUPERSEDED; attempts 0, receive 1; superseded: the grant is ACTIVE since 2026-11-27T10:14:03.000Z',
    );
    expect(noTable.stdout).toContain(
      'store: not read (no IdempotencyTableName output, no --table-name)',
    );
  });
});

describe('revoker report', () => {
  it('prints the table, writes CSV, JSON and HTML files, and filters by outcome, policy and account', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'revoker-report-'));

    // Act
    const table = await revoker(['report', '--stage', 'local', '--since', '1h']);
    const json = await revoker([
      'report',
      '--stage',
      'local',
      '--json',
      '--out',
      join(dir, 'r.json'),
    ]);
    const html = await revoker([
      'report',
      '--stage',
      'local',
      '--format',
      'html',
      '--out',
      join(dir, 'r.html'),
    ]);
    const filtered = await revoker([
      'report',
      '--stage',
      'local',
      '--outcome',
      'revoked,already_revoked',
      '--policy',
      'pii-exposure-7',
      '--account',
      '111122223333',
      '--format',
      'csv',
    ]);

    // Assess
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/: 4 — REVOKED 1, ALREADY_REVOKED 1, REJECTED 1, SUPERSEDED 1$/m);
    expect(table.stdout).toContain(
      'Time to enforce (2 enforced): p50 4.0 s, p95 4.0 s, p99 4.0 s, max 4.0 s (nearest rank)',
    );
    expect(table.stderr).toContain(
      'warning: 1 log event(s) in /aws/events/datashare-revoker-local-audit were not audit events',
    );
    expect(json.stderr).toContain(`wrote ${join(dir, 'r.json')}: 4 decision(s), json`);
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(report.rows.find((r: { eventId: string }) => r.eventId === 'evt-1')).toMatchObject({
      replays: 1,
      attempts: 2,
      auditEvents: 2,
      timeToEnforceMs: 4000,
      actor: '111122223333',
    });
    expect(report.rows.find((r: { eventId: string }) => r.eventId === 'evt-2')).toMatchObject({
      satisfiedBy: 'evt-1',
      actor: null,
    });
    expect(report.rows.find((r: { eventId: string }) => r.eventId === 'evt-4')).toMatchObject({
      outcome: 'SUPERSEDED',
      supersededBy: 'ACTIVE since 2026-11-27T10:14:03.000Z',
      timeToEnforceMs: null,
    });
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toContain('<svg');
    expect(html.code).toBe(0);
    expect(filtered.code).toBe(0);
    const lines = filtered.stdout.trim().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['evt-1', 'evt-2']);
  });

  it('refuses bad flags with the flag, the value and what is expected (exit 2)', async () => {
    // Act
    const runs = [];
    for (const flags of [
      ['--format', 'pdf'],
      ['--since', 'yesterday'],
      ['--since', '1h', '--until', '2h'],
      ['--outcome', 'GONE'],
      ['--account', '12'],
      ['--out', '/no/such/dir/r.csv'],
    ]) {
      runs.push(await revoker(['report', '--stage', 'local', ...flags]));
    }

    // Assess
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(runs.map((r) => r.stderr.trim().split('\n').at(-1))).toEqual([
      "revoker: --format must be one of table, csv, json, html, 'pdf' given",
      "revoker: --since must be an ISO-8601 time with a zone (2026-07-01T00:00:00Z), a date (2026-07-01, UTC) or a duration ago (30m, 24h, 90d), 'yesterday' given",
      expect.stringMatching(/^revoker: --since must be before --until, given /),
      "revoker: --outcome must be one or more of REVOKED, ALREADY_REVOKED, DRY_RUN, REJECTED, FAILED, SUPERSEDED (comma-separated), 'GONE' given",
      "revoker: --account must be a 12-digit AWS account id, '12' given",
      'revoker: cannot write --out /no/such/dir/r.csv: ENOENT',
    ]);
  });

  it('fails in one line when the log group or the stack cannot be read', async () => {
    // Prepare
    stack.cloudFormation.setFaults({ failNextCalls: 5, code: 'ServiceUnavailable' });

    // Act
    const unavailable = await revoker(['report', '--stage', 'local']);
    const noGroup = await revoker(['report', '--log-group', '/aws/events/nope']);
    const noFlag = await revoker(['report']);

    // Assess
    expect(unavailable.code).toBe(1);
    expect(unavailable.stderr).toMatch(
      /^revoker: DescribeStacks failed on datashare-revoker-local: ServiceUnavailable/m,
    );
    expect(noGroup.code).toBe(1);
    expect(noGroup.stderr).toMatch(
      /^revoker: FilterLogEvents failed on \/aws\/events\/nope: ResourceNotFoundException/m,
    );
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr.trim()).toBe(
      'revoker: --log-group is required: give it, or --stage NAME (or REVOKER_STAGE) to read AuditLogGroupName from the stack',
    );
  });
});
