/**
 * `revoker pause` / `revoker resume` through the real bin (a subprocess), against the local stack:
 * the Lambda emulator's mapping, the audit bus, the breaker's record in the idempotency table and
 * the STS emulator's GetCallerIdentity.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBreakerState } from '../../src/adapters/breaker-record.js';
import { DynamoDbIdempotencyStore } from '../../src/adapters/dynamodb-store.js';
import { pauseWorker } from '../../src/cli/commands/pause.js';
import { resumeWorker } from '../../src/cli/commands/resume.js';
import { createSwitchDependencies, type SwitchFlags } from '../../src/cli/switch.js';
import { MappingState } from '../../src/local/lambda-emulator/index.js';
import {
  dynamoDbClientFor,
  type LocalStack,
  sqsClientFor,
  startLocalStack,
} from '../../src/local/stack.js';
import { testContext } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'revoker.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const revoker = (args: string[], env: Record<string, string | undefined>): Promise<Run> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

const ourLines = (stderr: string): string[] =>
  stderr
    .split('\n')
    .filter((line) => line !== '' && !/ExperimentalWarning|--trace-warnings/.test(line));

let stack: LocalStack;
let env: Record<string, string | undefined>;
let flags: string[];

beforeAll(async () => {
  stack = await startLocalStack();
  env = { PATH: process.env.PATH, HOME: process.env.HOME, ...stack.env };
  flags = [
    '--function-name',
    stack.workerMapping.functionName,
    '--queue-arn',
    stack.queues.source.arn,
    '--event-bus',
    stack.auditEventBus.name,
  ];
});
afterAll(async () => {
  await stack?.stop();
});

const switchEvents = () =>
  stack.eventBridge
    .eventsOn(stack.auditEventBus.name)
    .filter((e) => e.detailType.startsWith('Datashare Revoker '));

describe('revoker pause / resume', () => {
  it('pause disables the mapping and publishes Paused with the caller and the reason; again, it says so', async () => {
    // Act
    const first = await revoker(['pause', '--reason', 'INC-42 runaway engine', ...flags], env);
    await stack.lambda.waitForState(stack.workerMapping.uuid, MappingState.Disabled, 5_000);
    const again = await revoker(['pause', '--reason', 'double check', '--json', ...flags], env);

    // Assess
    expect(ourLines(first.stderr)).toEqual([]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`event source mapping ${stack.workerMapping.uuid}: Disabling`);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ paused: true, changed: false });
    const [paused] = switchEvents();
    expect(paused?.detailType).toBe('Datashare Revoker Paused');
    expect(paused?.source).toBe('governance.datashare-revoker');
    expect(paused?.detail).toMatchObject({
      reason: 'INC-42 runaway engine',
      functionName: stack.workerMapping.functionName,
      queueArn: stack.queues.source.arn,
      caller: { account: stack.accountId },
      mappings: [{ uuid: stack.workerMapping.uuid, state: 'Disabling', changed: true }],
    });
    expect(JSON.stringify(paused?.detail)).toMatch(/"caller":\{"arn":"arn:aws:sts::/);
  });

  it('resume closes an open breaker, enables the mapping and publishes Resumed with the opening it closed', async () => {
    // Prepare: a breaker opened by the worker's store (one revocation allowed, two reserved)
    const client = dynamoDbClientFor(stack);
    const tableName = stack.idempotencyTable?.name ?? '';
    const store = new DynamoDbIdempotencyStore({ client, tableName, ttlSeconds: 3600 });
    const signal = AbortSignal.timeout(5_000);
    const limit = { maxRevocations: 1, windowSeconds: 600 };
    const trigger = {
      eventId: 'evt-too-many',
      target: 't',
      dataShareArn: 'arn:aws:redshift:us-east-1:444455556666:datashare:p/s',
      policyId: 'pol',
      messageId: 'm',
    };
    await store.reserveRevocations(
      ['a', 'b'].map(() => ({ reservation: { at: Date.now() }, trigger })),
      limit,
      signal,
    );
    expect((await readBreakerState({ client, tableName }, signal)).open).toBeDefined();

    // Act
    const resumed = await revoker(
      ['resume', '--reason', 'engine fixed', '--table-name', tableName, ...flags],
      env,
    );
    await stack.lambda.waitForState(stack.workerMapping.uuid, MappingState.Enabled, 5_000);

    // Assess
    expect(ourLines(resumed.stderr)).toEqual([]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('breaker closed:');
    expect(resumed.stdout).toContain('tripped by eventId evt-too-many');
    expect(await readBreakerState({ client, tableName }, AbortSignal.timeout(5_000))).toEqual({
      counts: {},
    });
    const event = switchEvents().at(-1);
    expect(event?.detailType).toBe('Datashare Revoker Resumed');
    expect(event?.detail).toMatchObject({
      reason: 'engine fixed',
      breakerClosed: { maxRevocations: 1, trippedBy: { eventId: 'evt-too-many' } },
      mappings: [{ uuid: stack.workerMapping.uuid, changed: true }],
    });
    client.destroy();
  });

  it('exits 2 with one line: no mapping for the function, a malformed queue ARN, no reason', async () => {
    // Act
    const [unknown, badArn, noReason] = await Promise.all([
      revoker(['pause', '--reason', 'x', ...flags.with(1, 'someone-else')], env),
      revoker(['resume', ...flags.with(3, 'not-an-arn')], env),
      revoker(['pause', ...flags], env),
    ]);

    // Assess
    expect(unknown.code).toBe(2);
    expect(ourLines(unknown.stderr)).toEqual([
      `revoker: No event source mapping of function someone-else on ${stack.queues.source.arn} (ListEventSourceMappings found none): check --function-name and --queue-arn (and --region)`,
    ]);
    expect(badArn.code).toBe(2);
    expect(ourLines(badArn.stderr)).toEqual([
      "revoker: --queue-arn must be an SQS queue ARN, arn:<partition>:sqs:<region>:<account>:<name>; 'not-an-arn' given",
    ]);
    expect(noReason.code).toBe(2);
    expect(ourLines(noReason.stderr)).toEqual([
      "error: required option '--reason <text>' not specified",
    ]);
  });
});

describe('pauseWorker / resumeWorker in process (the clients against the local stack)', () => {
  const saved = { ...process.env };
  let clients: ReturnType<typeof createSwitchDependencies>;
  let switchFlags: SwitchFlags;
  beforeAll(() => {
    // The SDK reads AWS_ENDPOINT_URL_* and the credentials at each request.
    Object.assign(process.env, stack.env);
    switchFlags = {
      functionName: stack.workerMapping.functionName,
      queueArn: stack.queues.source.arn,
      eventBus: stack.auditEventBus.name,
      eventSource: 'governance.datashare-revoker',
      tableName: stack.idempotencyTable?.name ?? '',
    };
    clients = createSwitchDependencies(switchFlags);
  });
  afterAll(() => {
    clients?.destroy();
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('pause then resume: Paused and Resumed with the caller; resume finds no breaker open and says so', async () => {
    // Prepare
    const sqs = sqsClientFor(stack);
    const paused = testContext(sqs, { json: true });
    const resumed = testContext(sqs);
    // Act
    const pauseCode = await pauseWorker(
      paused.context,
      { ...switchFlags, reason: 'drill' },
      clients,
    );
    await stack.lambda.waitForState(stack.workerMapping.uuid, MappingState.Disabled, 5_000);
    const resumeCode = await resumeWorker(resumed.context, switchFlags, clients);
    sqs.destroy();
    // Assess
    expect([pauseCode, resumeCode]).toEqual([0, 0]);
    expect(paused.json()).toMatchObject({ paused: true, changed: true, caller: { arn: 'alice' } });
    expect(resumed.stdout).toContain('breaker: closed (it was not open)');
    expect(
      switchEvents()
        .slice(-2)
        .map((e) => e.detailType),
    ).toEqual(['Datashare Revoker Paused', 'Datashare Revoker Resumed']);
    expect(switchEvents().at(-1)?.detail).toMatchObject({ reason: null, breakerClosed: null });
  });

  it('waits while the mapping is between states, then switches it', async () => {
    // Prepare: every change takes 1.5 s; a pause is still Disabling when resume comes
    stack.lambda.setFaults({ transitionMs: 1500 });
    const sqs = sqsClientFor(stack);
    const { context } = testContext(sqs);
    const before = stack.lambda.calls('UpdateEventSourceMapping').length;
    await pauseWorker(context, { ...switchFlags, reason: 'drill' }, clients);
    // Act
    const code = await resumeWorker(context, switchFlags, clients);
    sqs.destroy();
    stack.lambda.setFaults({ transitionMs: 0 });
    // Assess: refused while Disabling, then done
    expect(code).toBe(0);
    const updates = stack.lambda
      .calls('UpdateEventSourceMapping')
      .slice(before)
      .map((c) => `${String(c.input.Enabled)} ${c.errorType ?? 'ok'}`);
    expect(updates[0]).toBe('false ok');
    expect(updates.at(-1)).toBe('true ok');
    expect(updates.slice(1, -1).length).toBeGreaterThan(0);
    expect(new Set(updates.slice(1, -1))).toEqual(new Set(['true ResourceInUseException']));
    await stack.lambda.waitForState(stack.workerMapping.uuid, MappingState.Enabled, 5_000);
  });

  it('fails with one line naming the operation when the event is not accepted, after switching', async () => {
    // Prepare
    // Every attempt the SDK makes (its default of 3) fails.
    stack.eventBridge.setFaults({ failNextCalls: [{ kind: 'error', count: 3 }] });
    const sqs = sqsClientFor(stack);
    const { context } = testContext(sqs);
    // Act
    const error = await pauseWorker(context, { ...switchFlags, reason: 'drill' }, clients).catch(
      (e: unknown) => e,
    );
    sqs.destroy();
    await stack.lambda.waitForState(stack.workerMapping.uuid, MappingState.Disabled, 5_000);
    // Assess
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^PutEvents failed/);
  });
});
