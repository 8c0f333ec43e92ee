/**
 * The breaker end to end: two containers of the real worker behind the local event source mapping,
 * sharing the idempotency table (dynalite); the Lambda emulator's mapping, which the worker
 * disables; `revoker resume` (the CLI's own function and clients) closing it again.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readBreakerState } from '../../src/adapters/breaker-record.js';
import { resumeWorker } from '../../src/cli/commands/resume.js';
import { createSwitchDependencies } from '../../src/cli/switch.js';
import { MappingState } from '../../src/local/lambda-emulator/index.js';
import { dynamoDbClientFor } from '../../src/local/stack.js';
import { dataShareArn, namespaceArn, revocationRequest, seedOf, type Target } from './fixtures.js';
import { createTaggedLambdaService, type E2eStack, startE2eStack } from './harness.js';

const MAX = 5;
const TARGETS: Target[] = Array.from({ length: 8 }, (_, i) => ({
  dataShareArn: dataShareArn('breaker_sales'),
  consumerArn: namespaceArn(`breaker-${i}`),
}));
const eventIdOf = (i: number) => `breaker/decision/${i}`;

let e2e: E2eStack;

beforeAll(async () => {
  e2e = await startE2eStack({
    datashares: seedOf(TARGETS),
    visibilityTimeoutSeconds: 10,
    // Calls take a moment, so both containers are busy at once.
    redshiftFaults: { latencyMs: 150 },
    workerEnv: {
      BREAKER_MAX_REVOCATIONS: String(MAX),
      BREAKER_WINDOW_SECONDS: '3600',
      // Held messages come back 1 s after the resume.
      RETRY_BACKOFF_BASE_SECONDS: '1',
    },
  });
}, 60_000);

afterAll(async () => {
  await e2e?.stop();
});

it('across two containers, the breaker opens exactly when the N+1th revocation would happen; nothing is lost while it is open; after resume the queue drains, each decision audited once', async () => {
  // Prepare: two containers, tagged so that each audit event says which one acted
  const { stack } = e2e;
  const { service, containerOf } = createTaggedLambdaService(e2e.env);
  await e2e.send(TARGETS.map((target, i) => revocationRequest(eventIdOf(i), target)));
  const worker = await e2e.startWorker(service.handler, {
    maximumConcurrency: 2,
    batchSize: 2,
    functionTimeoutMs: 8000,
  });
  const disassociations = () =>
    stack.redshift.calls.filter((call) => call.operation === 'DisassociateDataShareConsumer');
  const results = () =>
    e2e.auditEvents().filter((event) => event.detailType === 'Datashare Revocation Result');

  try {
    // Act 1: the worker runs until the breaker disables its mapping and the last batch is done
    await stack.lambda.waitForState(stack.workerMapping.uuid, MappingState.Disabled, 30_000);
    await service.settled();

    // Assess 1: exactly N calls and N revocations, from both containers; one Opened event
    expect(disassociations()).toHaveLength(MAX);
    const revoked = results().filter((event) => event.detail.outcome === 'REVOKED');
    expect(revoked).toHaveLength(MAX);
    expect(
      new Set(revoked.map((event) => containerOf.get(event.detail.worker.awsRequestId))).size,
    ).toBe(2);
    const opened = e2e
      .auditEvents()
      .filter((event) => event.detailType === 'Datashare Revoker Breaker Opened');
    expect(opened).toHaveLength(1);
    const detail = opened[0]?.detail as unknown as {
      revocationsInWindow: number;
      maxRevocations: number;
      windowSeconds: number;
      trippedBy: { eventId: string };
    };
    expect(detail).toMatchObject({
      revocationsInWindow: MAX,
      maxRevocations: MAX,
      windowSeconds: 3600,
    });
    expect(revoked.map((event) => event.detail.eventId)).not.toContain(detail.trippedBy.eventId);
    const client = dynamoDbClientFor(stack, { endpoint: stack.endpoints.dynamoDbDirect });
    const tableName = stack.idempotencyTable?.name ?? '';
    expect(
      (await readBreakerState({ client, tableName }, AbortSignal.timeout(5000))).open,
    ).toBeDefined();
    client.destroy();

    // Assess 1b: nothing lost — every decision is audited or still in the queue; nothing in the DLQ
    const source = stack.fauxqs.inspectQueue(stack.queues.source.name);
    const queued = [
      ...(source?.messages.ready ?? []),
      ...(source?.messages.delayed ?? []),
      ...(source?.messages.inflight.map((m) => m.message) ?? []),
    ].map((message) => (JSON.parse(message.body) as { eventId: string }).eventId);
    const audited = results().map((event) => event.detail.eventId ?? '');
    expect(new Set([...queued, ...audited])).toEqual(new Set(TARGETS.map((_, i) => eventIdOf(i))));
    expect(queued).toHaveLength(TARGETS.length - MAX);
    expect(await e2e.depth('deadLetter')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    // the mapping stays off: nothing more is received
    await delay(1500);
    expect(disassociations()).toHaveLength(MAX);

    // Act 2: the operator resumes (closes the breaker, enables the mapping)
    const flags = {
      functionName: stack.workerMapping.functionName,
      queueArn: stack.queues.source.arn,
      eventBus: stack.auditEventBus.name,
      eventSource: 'governance.datashare-revoker',
      tableName,
      reason: 'policy engine fixed',
    };
    const notes: string[] = [];
    const deps = createSwitchDependencies(flags);
    const exitCode = await resumeWorker(
      {
        sqs: e2e.sqs,
        output: {
          json: false,
          result: (text) => notes.push(text),
          note: (text) => notes.push(text),
        },
        now: Date.now,
        sleep: (ms) => delay(ms),
        confirm: async () => true,
        identity: async () => 'arn:aws:sts::111122223333:assumed-role/operator/alice',
      },
      flags,
      deps,
    ).finally(() => deps.destroy());
    await stack.lambda.waitForState(stack.workerMapping.uuid, MappingState.Enabled, 10_000);
    await worker.drain({ idleTimeoutMs: 60_000 });

    // Assess 2: every decision revoked and audited exactly once; one call per target
    expect(exitCode).toBe(0);
    expect(notes.join('\n')).toContain(`tripped by eventId ${detail.trippedBy.eventId}`);
    const all = results();
    expect(all.map((event) => event.detail.eventId).sort()).toEqual(
      TARGETS.map((_, i) => eventIdOf(i)).sort(),
    );
    expect(all.every((event) => event.detail.outcome === 'REVOKED')).toBe(true);
    expect(disassociations()).toHaveLength(TARGETS.length);
    expect(await e2e.depth('deadLetter')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(
      e2e.auditEvents().filter((event) => event.detailType === 'Datashare Revoker Resumed'),
    ).toHaveLength(1);
  } finally {
    await worker.stop();
  }
}, 120_000);
