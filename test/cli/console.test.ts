/**
 * The operator console through the real bin against the local stack, found by `--stage local`
 * (the CloudFormation emulator serves the stack's outputs): status, trace and report on what the
 * real worker did, and a report over a few thousand audit events read page by page.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/cli/commands/status.js';
import type { TraceReport } from '../../src/cli/commands/trace.js';
import type { ComplianceReport } from '../../src/cli/report/report-document.js';
import {
  LOCAL_STAGE,
  type LocalStack,
  localClientConfig,
  startLocalStack,
} from '../../src/local/stack.js';
import { publishLocalStage } from '../../src/local/stage-file.js';
import { finished, ourLines, ROOT, revoker, start } from './bin.js';

const EXAMPLES = join(ROOT, 'examples', 'datashares.json');
const SALES_DAILY =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/sales_daily';
const SALES_PII =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/sales_pii';
const NAMESPACE =
  'arn:aws:redshift:us-east-1:111122223333:namespace:2f9c6e7a-1b3d-4c5e-8f9a-0b1c2d3e4f5a';

let stack: LocalStack;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  // The worker's first call for sales_pii is denied: FAILED, dead-lettered, replayable.
  stack = await startLocalStack({
    datashares: EXAMPLES,
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

const auditLog = () => stack.logs.events(LOCAL_STAGE.auditLogGroup);

const waitForAuditLog = async (count: number) => {
  const until = Date.now() + 15_000;
  while (auditLog().length < count) {
    if (Date.now() > until) throw new Error(`only ${auditLog().length} audit log event(s)`);
    await delay(50);
  }
};

const request = (eventId: string, dataShareArn: string) =>
  JSON.stringify({
    eventId,
    dataShareArn,
    consumerArn: NAMESPACE,
    policyId: 'pii-exposure-7',
    issuedAt: new Date(Date.now() - 1500).toISOString(),
  });

describe('revoker --stage local', () => {
  it('follows the runbook by stage: status, trace and report on what the real worker did, before and after a replay', async () => {
    // Prepare: two decisions, processed by the real worker (poll), one of them denied
    const dir = mkdtempSync(join(tmpdir(), 'revoker-console-'));
    const file = join(dir, 'decisions.jsonl');
    writeFileSync(file, `${request('evt-daily', SALES_DAILY)}\n${request('evt-pii', SALES_PII)}\n`);
    const sent = await revoker(['send', '--stage', 'local', file], env);
    const poller = start(
      ['poll', '--stage', 'local', '--function-timeout', '10', '--account', '111122223333'],
      env,
    );
    const polled = finished(poller);
    await waitForAuditLog(2);

    // Act 1: the on-call looks
    // One after another: each reads the DLQ, holding its messages while it does.
    const status = await revoker(['status', '--stage', 'local', '--json'], env);
    const trace = await revoker(['trace', 'evt-pii', '--stage', 'local', '--json'], env);
    const denied = await revoker(['status'], { ...env, REVOKER_STAGE: 'local' });

    // Assess 1
    expect(sent.code).toBe(0);
    expect(status.code).toBe(0);
    const seen = JSON.parse(status.stdout) as StatusReport;
    expect(seen.stage).toBe('local');
    expect(seen.worker).toMatchObject({
      functionName: LOCAL_STAGE.functionName,
      mappings: { ok: true, value: [{ state: 'Enabled' }] },
      breaker: { ok: true, value: { open: false } },
    });
    expect(seen.deadLetterQueue).toMatchObject({
      ok: true,
      value: { visible: 1, inFlight: 0, byErrorCode: { AccessDenied: 1 } },
    });
    expect(seen.audit).toMatchObject({
      ok: true,
      value: { byOutcome: { REVOKED: 1, FAILED: 1 }, logGroup: LOCAL_STAGE.auditLogGroup },
    });
    expect(seen.sourceQueue).toMatchObject({
      ok: true,
      value: { oldestMessageAgeSeconds: { ok: true } },
    });
    expect(seen.alarmsInAlarm).toMatchObject({
      ok: true,
      value: [{ name: 'datashare-revoker-local-dlq-not-empty' }],
    });
    expect(denied.code).toBe(0);
    expect(denied.stdout).toMatch(/^DLQ\s+1 message\(s\): AccessDenied 1$/m);
    expect(denied.stdout).toMatch(/^alarms\s+datashare-revoker-local-dlq-not-empty /m);
    const failed = JSON.parse(trace.stdout) as TraceReport;
    expect(trace.code).toBe(0);
    expect(failed.auditEvents).toEqual([
      expect.objectContaining({ eventId: 'evt-pii', outcome: 'FAILED', replayed: false }),
    ]);
    expect(failed.deadLetterCopies).toEqual([
      expect.objectContaining({ outcome: 'FAILED', errorCode: 'AccessDenied', replayCount: 0 }),
    ]);
    expect(failed.timeline.map((e) => e.source)).toEqual(['request', 'audit', 'dlq', 'store']);

    // Act 2: replay by stage, then trace and report
    const replayed = await revoker(
      [
        'dlq',
        'replay',
        '--stage',
        'local',
        '--error',
        'AccessDenied',
        '--reason',
        'INC-9',
        '--yes',
      ],
      env,
    );
    await waitForAuditLog(3);
    poller.kill('SIGTERM');
    const pollRun = await polled;
    const after = await revoker(['trace', 'evt-pii', '--stage', 'local', '--json'], env);
    const [report, table] = await Promise.all([
      revoker(['report', '--stage', 'local', '--since', '1h', '--format', 'json'], env),
      revoker(['trace', 'evt-pii', '--stage', 'local'], env),
    ]);

    // Assess 2: the whole story, and the report agrees
    expect(replayed.code).toBe(0);
    expect(pollRun.code).toBe(0);
    const story = JSON.parse(after.stdout) as TraceReport;
    expect(story.auditEvents.map((e) => [e.outcome, e.replayed])).toEqual([
      ['FAILED', false],
      ['REVOKED', true],
    ]);
    expect(story.deadLetterCopies).toEqual([]);
    expect(story.store).toMatchObject({
      table: 'revoker-idempotency',
      decision: { status: 'COMPLETED' },
      target: { byEventId: 'evt-pii' },
    });
    expect(story.auditEvents[1]).toMatchObject({
      actor: { accountId: '111122223333' },
      redshiftRequestId: expect.any(String),
    });
    expect(table.stdout).toMatch(/audit\s+audited REVOKED;.*replayed;.*Redshift request /);
    const evidence = JSON.parse(report.stdout) as ComplianceReport;
    expect(evidence.summary).toMatchObject({
      decisions: 2,
      byOutcome: { REVOKED: 2 },
      byPolicy: { 'pii-exposure-7': { decisions: 2, byOutcome: { REVOKED: 2 } } },
    });
    expect(evidence.rows.find((r) => r.eventId === 'evt-pii')).toMatchObject({
      outcome: 'REVOKED',
      replays: 1,
      auditEvents: 2,
      // Redshift calls of both audit events (the replay's includes its stale check's describe).
      attempts: story.auditEvents.reduce((sum, e) => sum + (e.attempts ?? 0), 0),
      account: '111122223333',
      timeToEnforceMs: expect.any(Number),
    });
  }, 90_000);

  it('finds a running local stack from another terminal with nothing exported, and says when none runs', async () => {
    // Prepare: what `npm start -- --keep-running` publishes while it runs
    const shell = {
      PATH: process.env.PATH,
      HOME: mkdtempSync(join(tmpdir(), 'revoker-home-')),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const unpublish = publishLocalStage(stack.env);

    // Act
    let running: Awaited<ReturnType<typeof revoker>>;
    try {
      running = await revoker(['dlq', 'list', '--stage', 'local', '--json'], shell);
    } finally {
      unpublish();
    }
    const stopped = await revoker(['dlq', 'list', '--stage', 'local'], shell);

    // Assess
    expect(running.code).toBe(0);
    expect(JSON.parse(running.stdout)).toMatchObject({ queueUrl: stack.queues.deadLetter.url });
    expect(stopped.code).toBe(2);
    expect(ourLines(stopped.stderr)[0]).toBe(
      'revoker: no local stack is running (start one with: npm start -- --keep-running); trying AWS',
    );
  }, 60_000);

  it('says in one line, exit 2, when the stage has no stack, the stack lacks an output, or the name is bad', async () => {
    // Prepare: a stage whose stack predates the DLQ output
    const { DeadLetterQueueUrl: _dlq, ...withoutDlq } = stack.outputs;
    stack.cloudFormation.putStack({ stackName: 'datashare-revoker-old', outputs: withoutDlq });

    // Act
    const [missing, noOutput, badName] = await Promise.all([
      revoker(['status', '--stage', 'nope'], env),
      revoker(['dlq', 'list', '--stage', 'old'], env),
      revoker(['report'], { ...env, REVOKER_STAGE: 'a b' }),
    ]);

    // Assess
    expect(missing.code).toBe(2);
    expect(ourLines(missing.stderr)).toEqual([
      'revoker: stack datashare-revoker-nope not found in the default region (--stage nope): check --stage, --region and --profile, or deploy it (docs/deploy.md)',
    ]);
    expect(noOutput.code).toBe(2);
    expect(ourLines(noOutput.stderr)).toEqual([
      'revoker: stack datashare-revoker-old has no output DeadLetterQueueUrl (needed for --dlq-url): redeploy the stage with the current infra/outputs.yml, or give --dlq-url',
    ]);
    expect(badName.code).toBe(2);
    expect(ourLines(badName.stderr)).toEqual([
      "revoker: REVOKER_STAGE must be 1 to 64 letters, digits or hyphens (a serverless stage), 'a b' given",
    ]);
  }, 60_000);
});

/** Q3 2026: far from the first test's events, so the range isolates them. */
const Q3 = Date.parse('2026-07-01T00:00:00Z');
const DECISIONS = 3000;
const OUTCOME_OF = (i: number) =>
  i % 10 === 0
    ? 'FAILED'
    : i % 10 === 1
      ? 'REJECTED'
      : i % 10 === 2
        ? 'ALREADY_REVOKED'
        : 'REVOKED';
/** eventIds that need escaping in every format. */
const EVENT_ID_OF = (i: number) => (i === 5 ? 'q3/<b>"tricky", id\nwith & newline' : `q3/${i}`);

interface Generated {
  time: number;
  detail: Record<string, unknown>;
}

/** The Q3 audit trail: one event per decision, and a FAILED before each of 30 replayed ones. */
const generate = (): Generated[] => {
  const events: Generated[] = [];
  for (let i = 0; i < DECISIONS; i += 1) {
    const outcome = OUTCOME_OF(i);
    const processed = Q3 + i * 2000;
    const latencyMs = (i * 7919) % 600_000;
    const replayedOnce = i % 100 === 3;
    const base = {
      schemaVersion: 1,
      eventId: EVENT_ID_OF(i),
      dataShareArn: SALES_DAILY,
      consumer: { arn: NAMESPACE },
      consumerAccountId: i % 4 === 0 ? '444455556666' : '111122223333',
      policyId: `policy-${i % 3}`,
      issuedAt: new Date(processed - latencyMs).toISOString(),
      attempts: 1,
      receiveCount: 1,
      dryRun: false,
      messageId: `m-${i}`,
    };
    if (replayedOnce) {
      events.push({
        time: processed - 1000,
        detail: {
          ...base,
          outcome: 'FAILED',
          processedAt: new Date(processed - 1000).toISOString(),
          latencyMs: latencyMs - 1000,
          replayed: false,
          error: { code: 'Throttling', message: 'Rate exceeded' },
        },
      });
    }
    events.push({
      time: processed,
      detail: {
        ...base,
        outcome,
        processedAt: new Date(processed).toISOString(),
        latencyMs,
        replayed: replayedOnce,
        ...(outcome === 'FAILED' && {
          error: { code: 'AccessDenied', message: 'denied, "quoted"' },
        }),
      },
    });
  }
  return events;
};

/** The nearest-rank percentile, written out again here: the ⌈p·n/100⌉-th smallest. */
const percentile = (sorted: number[], p: number) =>
  sorted[Math.ceil((p * sorted.length) / 100) - 1];

const pointerValue = (document: unknown, pointer: string): unknown =>
  pointer
    .split('/')
    .slice(1)
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], document);

const unescapeHtml = (text: string) =>
  text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');

describe('revoker report over a quarter of audit events', () => {
  it('reads 3,030 audit events page by page and agrees with them in JSON, CSV and HTML', async () => {
    // Prepare: the audit trail through the audit bus (so through the rule into the log group),
    // read in pages of 500
    const generated = generate();
    const events = new EventBridgeClient({
      ...localClientConfig(stack),
      endpoint: stack.endpoints.eventBridge,
    });
    for (let i = 0; i < generated.length; i += 10) {
      await events.send(
        new PutEventsCommand({
          Entries: generated.slice(i, i + 10).map((g) => ({
            EventBusName: 'revoker-audit',
            Source: LOCAL_STAGE.auditEventSource,
            DetailType: 'Datashare Revocation Result',
            Time: new Date(g.time),
            Detail: JSON.stringify(g.detail),
          })),
        }),
      );
    }
    events.destroy();
    stack.logs.setMaxPageEvents(500);
    const dir = mkdtempSync(join(tmpdir(), 'revoker-report-'));
    const range = ['--since', '2026-07-01', '--until', '2026-10-01T00:00:00Z'];

    // Act
    const [json, csv, html, failedOnly] = await Promise.all([
      revoker(['report', '--stage', 'local', ...range, '--format', 'json', '--progress'], env),
      revoker(
        ['report', '--stage', 'local', ...range, '--format', 'csv', '--out', join(dir, 'q3.csv')],
        env,
      ),
      revoker(
        ['report', '--stage', 'local', ...range, '--format', 'html', '--out', join(dir, 'q3.html')],
        env,
      ),
      revoker(
        [
          'report',
          '--stage',
          'local',
          ...range,
          '--outcome',
          'FAILED',
          '--policy',
          'policy-0',
          '--json',
        ],
        env,
      ),
    ]);

    // Assess: the summary, against the trail as generated
    expect([json.code, csv.code, html.code, failedOnly.code]).toEqual([0, 0, 0, 0]);
    const report = JSON.parse(json.stdout) as ComplianceReport;
    const finals = generated.filter(
      (g) =>
        g.detail.outcome === OUTCOME_OF(Number(String(g.detail.messageId).slice(2))) &&
        !(
          g.detail.outcome === 'FAILED' &&
          g.detail.error &&
          (g.detail.error as { code: string }).code === 'Throttling'
        ),
    );
    expect(finals).toHaveLength(DECISIONS);
    const byOutcome: Record<string, number> = {};
    for (const g of finals)
      byOutcome[String(g.detail.outcome)] = (byOutcome[String(g.detail.outcome)] ?? 0) + 1;
    const enforced = finals
      .filter((g) => g.detail.outcome === 'REVOKED' || g.detail.outcome === 'ALREADY_REVOKED')
      .map((g) => Number(g.detail.latencyMs))
      .sort((a, b) => a - b);
    expect(report.auditEventsRead).toBe(DECISIONS + 30);
    expect(report.summary.decisions).toBe(DECISIONS);
    expect(report.summary.byOutcome).toEqual(byOutcome);
    expect(report.summary.byPolicy['policy-1']?.decisions).toBe(1000);
    expect(report.summary.timeToEnforce).toMatchObject({
      count: enforced.length,
      p50Ms: percentile(enforced, 50),
      p95Ms: percentile(enforced, 95),
      p99Ms: percentile(enforced, 99),
      maxMs: enforced.at(-1),
    });
    expect(report.summary.histogram.reduce((sum, bin) => sum + bin.count, 0)).toBe(enforced.length);
    expect(report.rows.filter((r) => r.replays === 1)).toHaveLength(30);
    // Progress went to stderr, page by page, and stdout is the JSON alone.
    const progress = ourLines(json.stderr);
    expect(progress.length).toBeGreaterThanOrEqual(7);
    expect(progress.at(-1)).toMatch(/^report: 3030 audit event\(s\) read, \d+ page\(s\)$/);
    const filtered = JSON.parse(failedOnly.stdout) as ComplianceReport;
    expect(filtered.rows.length).toBe(
      finals.filter((g) => g.detail.outcome === 'FAILED' && g.detail.policyId === 'policy-0')
        .length,
    );
    expect(filtered.rows.every((r) => r.outcome === 'FAILED' && r.policyId === 'policy-0')).toBe(
      true,
    );

    // Assess: CSV (RFC 4180) gives back every row, the tricky eventId intact
    const text = readFileSync(join(dir, 'q3.csv'), 'utf8');
    expect(text.startsWith('eventId,policyId,dataShareArn,')).toBe(true);
    expect(text).toContain('"q3/<b>""tricky"", id\nwith & newline",policy-2,');
    expect(text.split('\r\n').filter((line) => line !== '')).toHaveLength(DECISIONS + 1);

    // Assess: every value the HTML shows equals the JSON report's, and nothing else is shown
    const page = readFileSync(join(dir, 'q3.html'), 'utf8');
    expect(page).not.toMatch(/<script|<link|src=|href=|url\(/i);
    expect(page).not.toContain('<b>"tricky"');
    const tagged = [...page.matchAll(/<(\w+)[^>]*? data-json="([^"]*)">([^<]*)<\/\1>/g)];
    for (const [, , pointer = '', shown = ''] of tagged) {
      const value = pointerValue(
        { ...report, generatedAt: pointerValue(report, '/generatedAt') },
        unescapeHtml(pointer),
      );
      if (pointer === '/generatedAt') continue; // a second run: its own time
      expect(unescapeHtml(shown), pointer).toBe(value === null ? '' : String(value));
    }
    expect(tagged.length).toBeGreaterThan(DECISIONS * 17);
    const keys = [...page.matchAll(/<(\w+)[^>]*? data-json-key="([^"]*)">([^<]*)<\/\1>/g)];
    for (const [, , pointer = '', shown = ''] of keys) {
      expect(pointerValue(report, unescapeHtml(pointer)), pointer).toBeDefined();
      expect(unescapeHtml(pointer).endsWith(`/${unescapeHtml(shown)}`), pointer).toBe(true);
    }
    const untagged = page
      .replace(/<style>[\s\S]*?<\/style>/, '')
      .replace(/<(\w+)[^>]*? data-json(-key)?="[^"]*">[^<]*<\/\1>/g, '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\bp(50|95|99)\b/g, '');
    expect(untagged).not.toMatch(/\d/);
  }, 90_000);
});
