/**
 * Rule 3, across containers: an eventId that one invocation is working on, received meanwhile by
 * another invocation (in another container). Two pollers, as Lambda scales out.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { callFilter, dataShareArn, namespaceArn, revocationRequest, seedOf } from './fixtures.js';
import {
  auditOf,
  coldStartFromConfig,
  createLambdaService,
  type E2eStack,
  type Handler,
  type RunningWorker,
  reportsOf,
  type SentMessage,
  startE2eStack,
} from './harness.js';

const FUNCTION_TIMEOUT_MS = 6000;
const held = { dataShareArn: dataShareArn('in-progress'), consumerArn: namespaceArn('held') };

let e2e: E2eStack;
let worker: RunningWorker;

beforeAll(async () => {
  e2e = await startE2eStack({
    datashares: seedOf([held]),
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 6,
    seed: 53,
    workerEnv: { DEADLINE_RESERVE_MS: '2000' },
  });
  worker = await e2e.startWorker(() => Promise.reject(new Error('no handler yet')), {
    functionTimeoutMs: FUNCTION_TIMEOUT_MS,
    maximumConcurrency: 2,
  });
});

afterAll(async () => {
  await worker?.stop();
  await e2e?.stop();
});

it('rule 3: an eventId in progress in another invocation is not acted on twice: once its holder completes it, it is acknowledged as a duplicate', async () => {
  // Prepare: Redshift answers slowly; while the first invocation waits for it, the policy engine
  // resends the same decision, which the second poller hands to another container
  e2e.stack.redshift.setFaults({ latencyMs: 1500 });
  const request = revocationRequest('in-progress/held', held);
  const service = createLambdaService({ coldStart: coldStartFromConfig(e2e.env) });
  let resent: Promise<SentMessage[]> | undefined;
  const resendDuringFirst: Handler = (event, context) => {
    const response = service.handler(event, context);
    resent ??= delay(300).then(() => e2e.send([request]));
    return response;
  };
  worker.use(resendDuringFirst);

  // Act
  const [first] = await e2e.send([request]);
  await worker.drain({ idleTimeoutMs: 30_000 });
  const [second] = (await resent) ?? [];
  await service.settled();

  // Assess: two containers, one call, one audit event, both messages acknowledged on first receipt
  expect(service.counts.coldStarts).toBe(2);
  const [firstBatch] = reportsOf(worker.reports, first ? [first] : []);
  const [secondBatch] = reportsOf(worker.reports, second ? [second] : []);
  expect(firstBatch?.deletedMessageIds).toEqual([first?.messageId]);
  expect(secondBatch?.deletedMessageIds).toEqual([second?.messageId]);
  expect(
    reportsOf(
      worker.reports,
      [first, second].filter((m) => m !== undefined),
    ),
  ).toHaveLength(2);
  expect(e2e.stack.redshift.countCalls(callFilter(held)).total).toBe(1);
  expect(e2e.stack.redshift.isAssociated(held.dataShareArn, held.consumerArn)).toBe(false);
  expect(auditOf(e2e.auditEvents(), 'in-progress/held')).toMatchObject([
    { outcome: 'REVOKED', messageId: first?.messageId },
  ]);
});
