import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Message, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outcome } from '../../src/core/outcome.js';
import { sqsClientFor } from '../../src/local/stack.js';
import { runStartCommand } from '../../src/local/start/command.js';
import { type RunningLocalDemo, startLocalDemo } from '../../src/local/start/demo.js';
import { planWaves } from '../../src/local/start/events-file.js';
import { renderKeepRunning, watchAuditEvents } from '../../src/local/start/keep-running.js';
import {
  DEFAULT_FILES,
  DEFAULT_OPTIONS,
  parseStartArguments,
} from '../../src/local/start/options.js';
import { barProgress, type ProgressSnapshot } from '../../src/local/start/progress.js';
import { renderSummary } from '../../src/local/start/render.js';
import type { LocalDemoSummary, OutcomeRow } from '../../src/local/start/summary.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX_CLI = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

// ── The example file, read here independently of the start script ─────────────────────────────

interface ExampleLine {
  line: number;
  body: string;
  request: Record<string, unknown> | undefined;
}

const EXAMPLE_LINES: ExampleLine[] = readFileSync(DEFAULT_FILES.events, 'utf8')
  .split('\n')
  .map((body, index) => ({ line: index + 1, body }))
  .filter(({ body }) => body.trim() !== '')
  .map(({ line, body }) => {
    let request: Record<string, unknown> | undefined;
    try {
      const json = JSON.parse(body) as Record<string, unknown>;
      request = (json['detail-type'] ? json.detail : json) as Record<string, unknown>;
    } catch {
      request = undefined;
    }
    return { line, body, request };
  });

const linesOf = (eventId: string) => EXAMPLE_LINES.filter((l) => l.request?.eventId === eventId);
const requestOf = (eventId: string): Record<string, unknown> => {
  const request = linesOf(eventId)[0]?.request;
  if (!request) throw new Error(`${eventId} is not in the example file`);
  return request;
};

const HUB = '111122223333';
const SPOKE_WITH_ROLE = '222233334444';
const SPOKE_WITHOUT_ROLE = '333344445555';
const OUTSIDER = '123456789012';

/** The consumer account of a request's target: the namespace's, else `consumerAccountId`, else the hub. */
const accountOf = (request: Record<string, unknown>): string =>
  (typeof request.consumerArn === 'string'
    ? /^arn:aws:redshift(?:-serverless)?:[a-z0-9-]+:(\d{12}):/.exec(request.consumerArn)?.[1]
    : undefined) ??
  (typeof request.consumerAccountId === 'string' ? request.consumerAccountId : HUB);

/** The Redshift emulator's consumer key of a request's target. */
const consumerKeyOf = (request: Record<string, unknown>): string =>
  typeof request.consumerArn === 'string'
    ? request.consumerArn
    : typeof request.consumerRegion === 'string'
      ? `region:${request.consumerRegion}`
      : `account:${accountOf(request)}`;

/** What the example file was designed to produce, per eventId. */
const DESIGNED: Record<string, Outcome> = {
  'demo-normal-01': Outcome.Revoked,
  'demo-normal-02': Outcome.Revoked,
  'demo-region-01': Outcome.Revoked,
  'demo-account-01': Outcome.Revoked,
  'demo-dup-01': Outcome.Revoked,
  'demo-throttled-01': Outcome.Revoked,
  'demo-envelope-01': Outcome.Revoked,
  'demo-spoke-01': Outcome.Revoked,
  'demo-spoke-02': Outcome.Revoked,
  'demo-spoke-03': Outcome.Revoked,
  'demo-already-01': Outcome.AlreadyRevoked,
  'demo-already-02': Outcome.AlreadyRevoked,
  'demo-already-03': Outcome.AlreadyRevoked,
  'demo-gone-01': Outcome.AlreadyRevoked,
  'demo-sametarget-01': Outcome.AlreadyRevoked,
  'demo-sametarget-02': Outcome.AlreadyRevoked,
  'demo-sametarget-03': Outcome.AlreadyRevoked,
  'demo-sametarget-04': Outcome.AlreadyRevoked,
  'demo-sametarget-05': Outcome.AlreadyRevoked,
  'demo-sametarget-06': Outcome.AlreadyRevoked,
  'demo-sametarget-07': Outcome.AlreadyRevoked,
  'demo-sametarget-08': Outcome.AlreadyRevoked,
  'demo-dryrun-01': Outcome.DryRun,
  'demo-dryrun-02': Outcome.DryRun,
  'demo-dryrun-03': Outcome.DryRun,
  'demo-rejected-01': Outcome.Rejected,
  'demo-rejected-02': Outcome.Rejected,
  'demo-rejected-03': Outcome.Rejected,
  'demo-rejected-04': Outcome.Rejected,
  'demo-outsider-01': Outcome.Rejected,
  'demo-denied-01': Outcome.Failed,
  'demo-norole-01': Outcome.Failed,
  'demo-superseded-01': Outcome.Superseded,
};

/** Rule 5: who confirmed the target first. */
const SATISFIED_BY: Record<string, string> = {
  'demo-sametarget-01': 'demo-normal-01',
  'demo-sametarget-02': 'demo-account-01',
  'demo-sametarget-03': 'demo-throttled-01',
  'demo-sametarget-04': 'demo-region-01',
  'demo-sametarget-05': 'demo-envelope-01',
  'demo-sametarget-06': 'demo-dup-01',
  'demo-sametarget-07': 'demo-normal-02',
  'demo-sametarget-08': 'demo-spoke-01',
};

const UNPARSEABLE = EXAMPLE_LINES.filter((l) => l.request === undefined);

const OUTCOME_COUNTS_LINE =
  'REVOKED 10 · ALREADY_REVOKED 12 · DRY_RUN 3 · REJECTED 6 · FAILED 2 · SUPERSEDED 1';

const receiveAll = async (demo: RunningLocalDemo, queueUrl: string): Promise<Message[]> => {
  const sqs = sqsClientFor(demo.stack);
  const messages: Message[] = [];
  try {
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 60,
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) return messages;
      messages.push(...Messages);
    }
  } finally {
    sqs.destroy();
  }
};

describe('npm start with the example files', () => {
  let demo: RunningLocalDemo;
  let summary: LocalDemoSummary;
  let progress = '';
  const rowsOf = (eventId: string | null): OutcomeRow[] =>
    summary.outcomes.filter((row) => row.eventId === eventId);
  const disassociateCalls = (eventId: string) => {
    const request = requestOf(eventId);
    return demo.stack.redshift.countCalls({
      operation: 'DisassociateDataShareConsumer',
      callerAccountId: accountOf(request),
      dataShareArn: String(request.dataShareArn),
      consumer: consumerKeyOf(request),
    });
  };

  beforeAll(async () => {
    demo = await startLocalDemo(
      { ...DEFAULT_OPTIONS, logLevel: 'silent' },
      { stderr: (text) => (progress += text) },
    );
    summary = demo.summary;
  }, 60_000);

  afterAll(async () => {
    await demo?.stop();
  });

  it('the example file holds what the demo needs', () => {
    // Assess: 30–60 messages, each designed outcome, one malformed body, exact duplicates
    expect(EXAMPLE_LINES.length).toBeGreaterThanOrEqual(30);
    expect(EXAMPLE_LINES.length).toBeLessThanOrEqual(60);
    const eventIds = new Set(EXAMPLE_LINES.flatMap((l) => (l.request ? [l.request.eventId] : [])));
    expect([...eventIds].sort()).toEqual(Object.keys(DESIGNED).sort());
    expect(UNPARSEABLE).toHaveLength(1);
    expect(linesOf('demo-dup-01').length).toBeGreaterThan(1);
    expect(EXAMPLE_LINES.some((l) => l.body.includes('"detail-type"'))).toBe(true);
    const accounts = new Set(Object.keys(DESIGNED).map((eventId) => accountOf(requestOf(eventId))));
    expect([...accounts].sort()).toEqual([HUB, OUTSIDER, SPOKE_WITH_ROLE, SPOKE_WITHOUT_ROLE]);
  });

  it('acts in each consumer account as designed: spoke role, no role, outside CONSUMER_ACCOUNTS', () => {
    // Prepare
    const account = (id: string) => summary.accounts.find((row) => row.accountId === id);
    const outcomesIn = (id: string) =>
      summary.outcomes.filter((row) => row.consumerAccountId === id).map((row) => row.outcome);

    // Assess: the spoke with the role — its decisions done as that role, after one AssumeRole.
    // The file's decisions are days old (STALE_AFTER_SECONDS): each reads its target's
    // associations (DescribeDataShares) before its disassociate call, both as the spoke role.
    expect(account(SPOKE_WITH_ROLE)).toMatchObject({
      mode: 'spoke role',
      decisions: 5,
      outcomes: { REVOKED: 3, ALREADY_REVOKED: 1, DRY_RUN: 1, REJECTED: 0, FAILED: 0 },
      assumeRoleCalls: 1,
      redshiftCalls: 6,
    });
    const spokeRole = `arn:aws:iam::${SPOKE_WITH_ROLE}:role/datashare-revoker-spoke`;
    expect(demo.stack.sts.assumeRoleCount(spokeRole)).toBe(1);
    expect(
      demo.stack.redshift.countCalls({ callerAccountId: SPOKE_WITH_ROLE, roleArn: spokeRole }),
    ).toMatchObject({ total: 6, ok: 6 });
    const spokeAudit = demo.stack.eventBridge
      .eventsOn('revoker-audit')
      .find((event) => event.detail.eventId === 'demo-spoke-01')?.detail;
    expect(spokeAudit).toMatchObject({
      outcome: 'REVOKED',
      consumerAccountId: SPOKE_WITH_ROLE,
      actor: { accountId: SPOKE_WITH_ROLE, roleArn: spokeRole },
      redshiftRequestId: expect.any(String),
    });
    // The spoke without the role: STS refuses, so nothing reaches its Redshift
    expect(account(SPOKE_WITHOUT_ROLE)).toMatchObject({
      mode: 'spoke role',
      decisions: 1,
      outcomes: { FAILED: 1 },
      assumeRoleCalls: 1,
      redshiftCalls: 0,
    });
    expect(rowsOf('demo-norole-01')[0]?.error?.code).toBe('ConsumerRoleDenied');
    // Outside CONSUMER_ACCOUNTS: REJECTED before any STS or Redshift call
    expect(account(OUTSIDER)).toMatchObject({
      mode: 'not allowed',
      decisions: 1,
      outcomes: { REJECTED: 1 },
      assumeRoleCalls: 0,
      redshiftCalls: 0,
    });
    expect(rowsOf('demo-outsider-01')[0]?.error?.code).toBe('ConsumerAccountNotAllowed');
    // The hub: its own role, no AssumeRole
    expect(account(HUB)).toMatchObject({ mode: 'own role', decisions: 22, assumeRoleCalls: 0 });
    expect(outcomesIn(HUB)).not.toContain(Outcome.Rejected);
    expect(summary.accounts.reduce((sum, row) => sum + row.redshiftCalls, 0)).toBe(
      summary.redshift.calls.total,
    );
  });

  it('names the consumer account of a request REJECTED ConsumerAccountNotAllowed, and counts no Redshift attempt for a denied AssumeRole', () => {
    const audit = (eventId: string) =>
      demo.stack.eventBridge.eventsOn('revoker-audit').find((e) => e.detail.eventId === eventId)
        ?.detail;
    expect(audit('demo-outsider-01')).toMatchObject({
      consumerAccountId: '123456789012',
      actor: null,
      redshiftRequestId: null,
    });
    // `attempts` and RedshiftAttempts count Redshift calls: a denied AssumeRole made none.
    expect(audit('demo-norole-01')).toMatchObject({ attempts: 0, actor: null });
    expect(demo.stack.redshift.countCalls({ callerAccountId: SPOKE_WITHOUT_ROLE }).total).toBe(0);
    // Its stale checks' DescribeDataShares included (no ambiguous "gone" answer needs its own).
    expect(summary.workerMetrics.RedshiftAttempts?.sum).toBe(
      demo.stack.redshift.countCalls({ operation: 'DisassociateDataShareConsumer' }).total +
        demo.stack.redshift.countCalls({ operation: 'DescribeDataShares' }).total,
    );
  });

  it('gives every eventId of the file exactly one audit event, with its designed outcome', () => {
    // Assess
    for (const [eventId, outcome] of Object.entries(DESIGNED)) {
      expect(
        rowsOf(eventId).map((row) => row.outcome),
        eventId,
      ).toEqual([outcome]);
    }
    expect(rowsOf(null)).toEqual([
      expect.objectContaining({
        line: UNPARSEABLE[0]?.line,
        outcome: Outcome.Rejected,
        error: expect.objectContaining({ code: 'MalformedJson' }),
      }),
    ]);
    expect(summary.outcomes).toHaveLength(Object.keys(DESIGNED).length + UNPARSEABLE.length);
    expect(demo.stack.eventBridge.eventsOn('revoker-audit')).toHaveLength(summary.outcomes.length);
  });

  it('acknowledges duplicate copies with no second audit event and no second Redshift call', () => {
    // Assess
    for (const eventId of ['demo-dup-01', 'demo-envelope-01']) {
      expect(linesOf(eventId).length, eventId).toBeGreaterThan(1);
      expect(rowsOf(eventId), eventId).toHaveLength(1);
      expect(disassociateCalls(eventId).total, eventId).toBe(1);
    }
    const copies = EXAMPLE_LINES.length - summary.outcomes.length;
    expect(summary.duplicatesSuppressed).toBe(copies);
    expect(summary.workerMetrics.DuplicatesSuppressed?.sum).toBe(copies);
  });

  it('retries the throttled target after backing off, and revokes it', () => {
    // Assess: the stale check's read, two "Rate exceeded" answers, then the call that worked, in
    // one invocation
    expect(rowsOf('demo-throttled-01')[0]).toMatchObject({ outcome: Outcome.Revoked, attempts: 4 });
    expect(disassociateCalls('demo-throttled-01')).toMatchObject({ total: 3, throttled: 2, ok: 1 });
    expect(summary.faults.targeted.map((f) => [f.eventId, f.kind])).toEqual([
      ['demo-throttled-01', 'throttle'],
      ['demo-denied-01', 'accessDenied'],
    ]);
  });

  it('answers a later decision for a confirmed target ALREADY_REVOKED without a Redshift call', () => {
    // Assess
    for (const [eventId, confirmer] of Object.entries(SATISFIED_BY)) {
      expect(rowsOf(eventId)[0], eventId).toMatchObject({ attempts: 0, satisfiedBy: confirmer });
    }
    expect(disassociateCalls('demo-normal-01').total).toBe(1);
  });

  it('holds exactly the REJECTED and FAILED messages in the DLQ, with their reasons', async () => {
    // Act: read the DLQ ourselves, as an operator would
    const messages = await receiveAll(demo, demo.stack.queues.deadLetter.url);

    // Assess
    const attribute = (m: Message, name: string) => m.MessageAttributes?.[name]?.StringValue;
    const found = messages
      .map((m) => ({
        body: m.Body,
        outcome: attribute(m, 'revoker.outcome'),
        errorCode: attribute(m, 'revoker.errorCode'),
        errorMessage: attribute(m, 'revoker.errorMessage') ?? '',
      }))
      .sort((a, b) => String(a.body).localeCompare(String(b.body)));
    const quarantined = Object.entries(DESIGNED)
      .filter(([, outcome]) => outcome === Outcome.Rejected || outcome === Outcome.Failed)
      .map(([eventId]) => linesOf(eventId)[0]?.body)
      .concat(UNPARSEABLE.map((l) => l.body))
      .sort();
    expect(found.map((m) => m.body)).toEqual(quarantined);
    const reason = (eventId: string) => found.find((m) => m.body === linesOf(eventId)[0]?.body);
    expect(reason('demo-rejected-01')).toMatchObject({
      outcome: 'REJECTED',
      errorCode: 'SchemaViolation',
      errorMessage: expect.stringContaining('consumerArn'),
    });
    expect(reason('demo-rejected-02')?.errorMessage).toContain('target');
    expect(reason('demo-rejected-03')?.errorMessage).toContain('issuedAt');
    expect(reason('demo-rejected-04')?.errorMessage).toContain('policyId');
    expect(reason('demo-denied-01')).toMatchObject({
      outcome: 'FAILED',
      errorCode: 'AccessDenied',
    });
    expect(reason('demo-norole-01')).toMatchObject({
      outcome: 'FAILED',
      errorCode: 'ConsumerRoleDenied',
      errorMessage: expect.stringContaining(
        `arn:aws:iam::${SPOKE_WITHOUT_ROLE}:role/datashare-revoker-spoke`,
      ),
    });
    expect(reason('demo-outsider-01')).toMatchObject({
      outcome: 'REJECTED',
      errorCode: 'ConsumerAccountNotAllowed',
      errorMessage: expect.stringContaining(OUTSIDER),
    });
    expect(found.find((m) => m.body === UNPARSEABLE[0]?.body)).toMatchObject({
      outcome: 'REJECTED',
      errorCode: 'MalformedJson',
    });
    expect(summary.deadLetterQueue).toHaveLength(quarantined.length);
  });

  it('leaves no revoked target associated, and untouched what it must not revoke', () => {
    // Assess
    const { redshift } = demo.stack;
    for (const [eventId, outcome] of Object.entries(DESIGNED)) {
      if (outcome !== Outcome.Revoked) continue;
      const request = requestOf(eventId);
      expect(
        redshift.isAssociated(
          String(request.dataShareArn),
          consumerKeyOf(request),
          accountOf(request),
        ),
        eventId,
      ).toBe(false);
    }
    // Refused (AccessDenied), not in the scope, or no role to act as: each keeps its access.
    for (const eventId of ['demo-denied-01', 'demo-outsider-01', 'demo-norole-01']) {
      const request = requestOf(eventId);
      expect(
        redshift.isAssociated(
          String(request.dataShareArn),
          consumerKeyOf(request),
          accountOf(request),
        ),
        eventId,
      ).toBe(true);
    }
  });

  it('passes its own checks, drains the queue and reports progress on stderr', () => {
    // Assess
    expect(summary.checks.filter((check) => !check.ok)).toEqual([]);
    expect(summary.ok).toBe(true);
    expect(summary.queue).toMatchObject({ sent: EXAMPLE_LINES.length, drained: true });
    // How long the demo takes is the benchmark's business, not a test's: this machine is shared.
    expect(summary.durationMs).toBeGreaterThan(0);
    expect(progress).toMatch(/sent 37\/37 · in flight 0 · acknowledged 37 · dead-lettered 8/);
  });

  it('renders the summary for a terminal: outcome table, DLQ reasons, checks', () => {
    // Act
    const text = renderSummary(summary);

    // Assess
    expect(text).toContain('all checks passed');
    expect(text).toMatch(/demo-throttled-01 +1 +REVOKED +4/);
    expect(text).toMatch(
      /demo-superseded-01 +1 +SUPERSEDED +1 +1 +associated again at 2026-11-25T08:00:00.000Z \(ACTIVE\): not revoked/,
    );
    expect(text).toMatch(/demo-sametarget-01 .*satisfied by demo-normal-01/);
    expect(text).toMatch(/demo-denied-01 +FAILED +AccessDenied/);
    expect(text).toMatch(/demo-norole-01 +FAILED +ConsumerRoleDenied/);
    expect(text).toMatch(/demo-outsider-01 +REJECTED +ConsumerAccountNotAllowed/);
    // The stale checks found the "not associated" targets without a disassociate call.
    expect(text).toMatch(/DisassociateDataShareConsumer +13 +10 +0 +2 +0 +1 +0/);
    expect(text).toMatch(/DescribeDataShares +16 +16 +0 +0 +0 +0 +0/);
    expect(text).toContain(OUTCOME_COUNTS_LINE);
    expect(text).toContain('accounts    hub 111122223333, spokes 222233334444, 333344445555');
    // account, mode, decisions, REVOKED, ALREADY_REVOKED, DRY_RUN, REJECTED, FAILED, SUPERSEDED,
    // AssumeRole, Redshift calls
    expect(text).toMatch(/111122223333 +own role +22 +7 +11 +2 +0 +1 +1 +0 +23\n/);
    expect(text).toMatch(/222233334444 +spoke role +5 +3 +1 +1 +0 +0 +0 +1 +6\n/);
    expect(text).toMatch(/333344445555 +spoke role +1 +0 +0 +0 +0 +1 +0 +1 +0\n/);
    expect(text).toMatch(/123456789012 +not allowed +1 +0 +0 +0 +1 +0 +0 +0 +0\n/);
    expect(text).toMatch(/\(none read\) +- +5 +0 +0 +0 +5 +0 +0 +0 +0\n/);
    expect(text).not.toContain('✗');
  });

  it('keeps the worker running after the summary: a message sent then is audited', async () => {
    // Prepare
    const seen: string[] = [];
    const stopWatching = watchAuditEvents(demo.stack, (line) => seen.push(line), 20);
    const body = JSON.stringify({
      ...requestOf('demo-dryrun-01'),
      eventId: 'after-the-summary-01',
    });

    // Act
    await demo.sqs.send(
      new SendMessageCommand({ QueueUrl: demo.stack.queues.source.url, MessageBody: body }),
    );
    await demo.mapping.waitForIdle({ quietMs: 50, timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    stopWatching();

    // Assess
    expect(seen).toEqual([expect.stringMatching(/^audit {2}after-the-summary-01 {2}DRY_RUN/)]);
    const help = renderKeepRunning(demo.stack);
    expect(help).toContain(`export AWS_ENDPOINT_URL_SQS='${demo.stack.endpoints.sqs}'`);
    expect(help).toContain(`export SOURCE_QUEUE_URL='${demo.stack.queues.source.url}'`);
    expect(help).toContain(`${demo.stack.endpoints.redshift}/__emulator/faults`);
    expect(help).toContain(`${demo.stack.endpoints.eventBridge}/__emulator/events`);
  });
});

describe('npm start pieces', () => {
  it('parses options into exact values and rejects bad ones naming the option and the value', () => {
    // Act
    const parsed = parseStartArguments(
      ['--error-rate', '0.25', '--seed', '7', '--latency-ms', '20', '--json'],
      { writeOut: () => {}, writeErr: () => {} },
    );

    // Assess
    expect(parsed).toEqual({
      kind: 'run',
      options: { ...DEFAULT_OPTIONS, errorRate: 0.25, seed: 7, latencyMs: 20, json: true },
    });
    const problem = (args: string[]) => {
      try {
        parseStartArguments(args, { writeOut: () => {}, writeErr: () => {} });
        return undefined;
      } catch (error) {
        return {
          message: (error as Error).message,
          exitCode: (error as { exitCode?: number }).exitCode,
        };
      }
    };
    expect(problem(['--error-rate', '1.5'])).toEqual({
      message: "--error-rate must be a number from 0 to 1 (a share of the calls), '1.5' given",
      exitCode: 2,
    });
    expect(problem(['--seed', '-1'])?.message).toBe(
      "--seed must be a whole number from 0 to 4294967295, '-1' given",
    );
    expect(problem(['--log-level', 'loud'])?.message).toMatch(/^--log-level must be one of fatal/);
    expect(problem(['--latency-ms', '1e3'])?.exitCode).toBe(2);
    expect(problem(['--drain-timeout'])?.message).toMatch(/argument missing/);
  });

  it('prints the help and asks for no run', () => {
    // Prepare
    let help = '';

    // Act
    const parsed = parseStartArguments(['--help'], {
      writeOut: (t) => (help += t),
      writeErr: () => {},
    });

    // Assess
    expect(parsed).toEqual({ kind: 'help' });
    expect(help).toContain('--keep-running');
    expect(help).toContain('docs/local-stack.md');
  });

  it('sends a repeat only after the wave that acts for its eventId or its target', () => {
    // Prepare
    const request = (eventId: string, consumerRegion: string, extra = {}) =>
      JSON.stringify({
        eventId,
        dataShareArn: requestOf('demo-normal-01').dataShareArn,
        consumerRegion,
        policyId: 'p',
        issuedAt: '2026-11-25T07:00:00Z',
        ...extra,
      });
    const bodies = [
      request('a', 'us-east-1'),
      request('a', 'us-east-1'),
      request('b', 'us-east-1'),
      request('a', 'us-east-1'),
      request('c', 'us-east-1', { dryRun: true }),
      request('d', 'us-west-2'),
      '{not json',
    ].map((body, index) => ({ line: index + 1, body }));

    // Act
    const waves = planWaves(bodies).map((line) => line.wave);

    // Assess: copies of a share wave 1; b acts after a; the dry run, d and the bad body go first
    expect(waves).toEqual([0, 1, 1, 1, 0, 0, 0]);
  });

  it('refuses an unreadable events file or seed before starting anything', async () => {
    // Prepare: servers closed just before (the other describe) leave their handles a moment
    const servers = () =>
      process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = servers();
    const start = (options: Partial<typeof DEFAULT_OPTIONS>) =>
      startLocalDemo({ ...DEFAULT_OPTIONS, ...options }, { stderr: () => {} }).then(
        () => undefined,
        (error: Error & { exitCode?: number }) => ({
          message: error.message,
          exitCode: error.exitCode,
        }),
      );

    // Act
    const missing = await start({ eventsFile: '/nonexistent/events.jsonl' });
    const badSeed = await start({ datasharesFile: DEFAULT_FILES.events });

    // Assess
    expect(missing).toEqual({
      message: expect.stringMatching(/^\/nonexistent\/events\.jsonl: cannot read the events file/),
      exitCode: 2,
    });
    expect(badSeed).toEqual({
      message: expect.stringContaining('cannot read the datashares seed'),
      exitCode: 2,
    });
    expect(servers()).toBe(before);
  });

  it('draws a progress bar on a terminal', () => {
    // Prepare
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 200 });
    let drawn = '';
    stream.on('data', (chunk: Buffer) => (drawn += chunk.toString()));
    const snapshot: ProgressSnapshot = {
      elapsedMs: 1500,
      wave: 1,
      waves: 2,
      sent: 20,
      total: 30,
      inFlight: 10,
      acknowledged: 10,
      deadLettered: 1,
      redshiftCalls: 7,
      redshiftThrottled: 2,
      auditEvents: 10,
    };
    const bar = barProgress(stream, 10);

    // Act
    bar.start(() => snapshot);
    bar.note('ignored while the bar is drawn');
    bar.stop();

    // Assess
    expect(drawn).toContain('10/30 acknowledged · in flight 10 · DLQ 1 · Redshift 7 (2 throttled)');
    expect(drawn).not.toContain('ignored');
  });
});

describe('npm start as a command', () => {
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [TSX_CLI, 'src/local/start/main.ts', ...args], {
      cwd: ROOT,
      timeout: 60_000,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code?: number; stdout: string; stderr: string }) => ({
        code: error.code ?? -1,
        stdout: error.stdout,
        stderr: error.stderr,
      }),
    );

  it('in-process: --keep-running prints the summary, then how to reach the stack, until stopped', async () => {
    // Prepare: a second run in this process, which must talk to its own stack
    let stdout = '';
    let stderr = '';

    // Act
    const code = await runStartCommand(['--keep-running', '--log-level', 'silent'], {
      writeOut: (text) => (stdout += text),
      writeErr: (text) => (stderr += text),
      untilStopped: async () => 'stopped by the test',
    });

    // Assess
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('all checks passed');
    expect(stdout).toContain(OUTCOME_COUNTS_LINE);
    expect(stderr).toMatch(/export AWS_ENDPOINT_URL_SQS='http:\/\/127\.0\.0\.1:\d+'/);
    expect(stderr).toContain('stopped by the test: stopping the worker and the stack');
  }, 60_000);

  it('in-process: --single-account runs the worker in its own account, the spokes REJECTED', async () => {
    // Prepare
    let stdout = '';
    let stderr = '';

    // Act
    const code = await runStartCommand(['--single-account', '--json', '--log-level', 'silent'], {
      writeOut: (text) => (stdout += text),
      writeErr: (text) => (stderr += text),
    });

    // Assess: every spoke decision (the dry run's too) is outside the scope; nothing assumed
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as LocalDemoSummary;
    expect(summary.accountScope).toEqual({
      mode: 'single-account',
      ownAccountId: HUB,
      consumerAccounts: [],
    });
    const rows = Object.fromEntries(summary.accounts.map((row) => [row.accountId, row]));
    for (const id of [SPOKE_WITH_ROLE, SPOKE_WITHOUT_ROLE, OUTSIDER]) {
      expect(rows[id], id).toMatchObject({
        mode: 'not allowed',
        assumeRoleCalls: 0,
        redshiftCalls: 0,
      });
      expect(rows[id]?.outcomes.REJECTED, id).toBe(rows[id]?.decisions);
    }
    expect(rows[HUB]).toMatchObject({ mode: 'own role', decisions: 22, assumeRoleCalls: 0 });
    expect(summary.ok).toBe(true);
  }, 60_000);

  it('in-process: --help exits 0; an unreadable events file exits 2 in one line', async () => {
    // Prepare
    const io = () => {
      const out = { stdout: '', stderr: '' };
      return {
        out,
        io: {
          writeOut: (text: string) => (out.stdout += text),
          writeErr: (text: string) => (out.stderr += text),
        },
      };
    };
    const help = io();
    const missing = io();

    // Act
    const helpCode = await runStartCommand(['--help'], help.io);
    const missingCode = await runStartCommand(['--events', '/nonexistent.jsonl'], missing.io);

    // Assess
    expect(helpCode).toBe(0);
    expect(help.out.stdout).toContain('Usage: npm start -- [options]');
    expect(missingCode).toBe(2);
    expect(missing.out).toEqual({
      stdout: '',
      stderr: expect.stringMatching(
        /^npm start: \/nonexistent\.jsonl: cannot read the events file .*\n$/,
      ),
    });
  });

  it('--json exits 0 and prints the summary as one JSON object on stdout', async () => {
    // Act
    const { code, stdout, stderr } = await run(['--json']);

    // Assess
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as LocalDemoSummary;
    expect(summary.ok).toBe(true);
    expect(summary.outcomeCounts).toEqual({
      REVOKED: 10,
      ALREADY_REVOKED: 12,
      DRY_RUN: 3,
      REJECTED: 6,
      FAILED: 2,
      SUPERSEDED: 1,
    });
    expect(summary.accountScope).toEqual({
      mode: 'hub',
      ownAccountId: HUB,
      consumerAccounts: [SPOKE_WITH_ROLE, SPOKE_WITHOUT_ROLE],
    });
    expect(summary.accounts.map((row) => [row.accountId, row.mode, row.decisions])).toEqual([
      [HUB, 'own role', 22],
      [OUTSIDER, 'not allowed', 1],
      [SPOKE_WITH_ROLE, 'spoke role', 5],
      [SPOKE_WITHOUT_ROLE, 'spoke role', 1],
      [null, null, 5],
    ]);
  }, 60_000);

  it('exits 2 with a precise message for a bad option value or an unknown option', async () => {
    // Act
    const [badValue, unknown] = await Promise.all([
      run(['--throttle-rps', '0.5']),
      run(['--frobnicate']),
    ]);

    // Assess
    expect(badValue).toMatchObject({ code: 2, stdout: '' });
    expect(badValue.stderr).toContain(
      "--throttle-rps must be a whole number of calls per second from 0 to 10000, '0.5' given",
    );
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toContain("unknown option '--frobnicate'");
  }, 30_000);
});
