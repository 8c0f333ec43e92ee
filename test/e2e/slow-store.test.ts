/**
 * Defect 3 of the reliability review: every call is bounded by the deadline. A store that answers
 * every call after 2.5 s, and a PutEvents that is accepted but answers late: the handler always
 * returns in time, and across all redeliveries no eventId has two audit events and no target two
 * state changes. (Before the fix, store calls ran unbounded after the Redshift phase: the handler
 * overran its timeout, Lambda redelivered the whole batch, and the return acted and audited again.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { callFilter, dataShareArn, namespaceArn, revocationRequest, seedOf } from './fixtures.js';
import {
  coldStartFromConfig,
  createLambdaService,
  type E2eStack,
  startE2eStack,
} from './harness.js';

const FUNCTION_TIMEOUT_MS = 10_000;
const STORE_LATENCY_MS = 2500;
const AUDIT_LATENCY_MS = 700;
const targets = Array.from({ length: 4 }, (_, i) => ({
  dataShareArn: dataShareArn('slow_store'),
  consumerArn: namespaceArn(`slow-store-${i}`),
}));

let e2e: E2eStack;

beforeAll(async () => {
  e2e = await startE2eStack({
    datashares: seedOf(targets),
    maxReceiveCount: 4,
    visibilityTimeoutSeconds: 12,
    seed: 93,
    // Every DynamoDB answer comes 2.5 s after the call took effect; every PutEvents answer late.
    dynamoDbFaults: { latencyMs: STORE_LATENCY_MS },
    eventBridgeFaults: { latencyMs: AUDIT_LATENCY_MS },
    workerEnv: { DEADLINE_RESERVE_MS: '2000', QUEUE_VISIBILITY_TIMEOUT_SECONDS: '12' },
  });
});

afterAll(async () => {
  await e2e?.stop();
});

it('defect 3: with a store that answers every call after 2.5 s and a PutEvents that answers late, the handler always returns in time, and across all redeliveries no eventId has two audit events and no target two state changes', async () => {
  // Prepare: a decision per target, and a resend of one of them
  const service = createLambdaService({ coldStart: coldStartFromConfig(e2e.env) });
  const bodies = targets.map((target, i) => revocationRequest(`slow-store/${i}`, target));
  const sent = await e2e.send([...bodies, bodies[0] as Record<string, unknown>]);

  // Act
  const { reports } = await e2e.run(service.handler, {
    batchSize: 10,
    maximumConcurrency: 2,
    functionTimeoutMs: FUNCTION_TIMEOUT_MS,
    idleTimeoutMs: 120_000,
  });
  await service.settled();

  // Assess: no invocation ran into its timeout (none failed as a whole)
  expect(reports.length).toBeGreaterThan(0);
  expect(reports.filter((report) => report.failure !== undefined)).toEqual([]);
  expect(Math.max(...reports.map((report) => report.durationMs))).toBeLessThan(FUNCTION_TIMEOUT_MS);
  // Every decision audited exactly once, every target changed state at most once
  const audit = e2e.auditEvents().map((event) => event.detail);
  for (let i = 0; i < targets.length; i += 1) {
    const events = audit.filter((detail) => detail.eventId === `slow-store/${i}`);
    const unfinished = (await e2e.deadLetters()).filter((letter) =>
      letter.body.includes(`slow-store/${i}"`),
    );
    // Audited once, or (if the store never let it finish) dead-lettered by the worker with a reason
    expect(events.length + unfinished.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(1);
    for (const letter of unfinished) expect(letter.revoker?.errorCode).toBeTruthy();
    const calls = e2e.stack.redshift.countCalls(callFilter(targets[i] as (typeof targets)[0]));
    expect(calls.ok + calls.lostAnswer).toBeLessThanOrEqual(1);
  }
  const depth = await e2e.depth('source');
  expect(depth.visible + depth.inFlight + depth.delayed).toBe(0);
  expect(sent).toHaveLength(5);
}, 150_000);
