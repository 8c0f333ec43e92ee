/**
 * A batch's new decisions are claimed in one `TransactWriteItems` (the local DynamoDB's, over the
 * wire): when that request takes effect and its answer is lost, or fails before it reaches the
 * table, each decision is claimed on its own — found this invocation's own, or taken — and acted
 * on once, audited once.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { callFilter, dataShareArn, namespaceArn, revocationRequest, seedOf } from './fixtures.js';
import {
  auditOf,
  coldStartFromConfig,
  createLambdaService,
  type E2eStack,
  type RunningWorker,
  reportsOf,
  startE2eStack,
} from './harness.js';

const FUNCTION_TIMEOUT_MS = 6000;
const targetsOf = (scenario: string) =>
  [1, 2, 3].map((n) => ({
    dataShareArn: dataShareArn(`joint_${scenario}`),
    consumerArn: namespaceArn(`${scenario}-${n}`),
  }));
const SCENARIOS = ['lost', 'refused'] as const;

let e2e: E2eStack;
let worker: RunningWorker;

beforeAll(async () => {
  e2e = await startE2eStack({
    datashares: seedOf(SCENARIOS.flatMap(targetsOf)),
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 6,
    seed: 71,
  });
  worker = await e2e.startWorker(() => Promise.reject(new Error('no handler yet')), {
    functionTimeoutMs: FUNCTION_TIMEOUT_MS,
  });
});

beforeEach(() => e2e.stack.dynamoDbProxy?.reset());

afterAll(async () => {
  await worker?.stop();
  await e2e?.stop();
});

it.each([
  ['lost', 'error', 'after', 'the joint claim took effect and its answer was lost'],
  ['refused', 'throttle', 'before', 'the joint claim was throttled before it reached the table'],
] as const)(
  'a batch of three new decisions, %s (%s %s): %s; each decision is claimed on its own, acted on once and audited once',
  async (scenario, kind, when, _why) => {
    // Prepare
    const proxy = e2e.stack.dynamoDbProxy;
    if (!proxy) throw new Error('the e2e stack runs DynamoDB behind its fault proxy');
    proxy.setFaults({ failNext: [{ kind, when, operations: ['TransactWriteItems'] }] });
    const service = createLambdaService({ coldStart: coldStartFromConfig(e2e.env) });
    worker.use(service.handler);
    const targets = targetsOf(scenario);

    // Act
    const sent = await e2e.send(
      targets.map((t, i) => revocationRequest(`joint/${scenario}-${i + 1}`, t)),
    );
    await worker.drain({ idleTimeoutMs: 30_000 });
    await service.settled();

    // Assess: the fault hit the one joint claim, which named all three decisions
    expect(proxy.injections()).toMatchObject(
      sent.map(() => ({ operation: 'TransactWriteItems', key: expect.stringMatching(/^event#/) })),
    );
    const [batch] = reportsOf(worker.reports, sent);
    expect(batch?.deletedMessageIds?.slice().sort()).toEqual(sent.map((m) => m.messageId).sort());
    for (const [i, t] of targets.entries()) {
      expect(e2e.stack.redshift.countCalls(callFilter(t)).total).toBe(1);
      expect(auditOf(e2e.auditEvents(), `joint/${scenario}-${i + 1}`)).toMatchObject([
        { outcome: 'REVOKED', receiveCount: 1 },
      ]);
    }
  },
  60_000,
);
