/**
 * Rule 8 with a small DEADLINE_RESERVE_MS: a Redshift call that hangs until the deadline must not
 * take the time the batch's audit needs. (Fails against the current worker: see the e2e report.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
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
const RESERVES = ['2000'] as const;
const targets = (reserve: string) => ({
  slow: {
    dataShareArn: dataShareArn(`reserve_${reserve}`),
    consumerArn: namespaceArn(`slow-${reserve}`),
  },
  fast: {
    dataShareArn: dataShareArn(`reserve_${reserve}`),
    consumerArn: namespaceArn(`fast-${reserve}`),
  },
});

let e2e: E2eStack;
let worker: RunningWorker;

beforeAll(async () => {
  e2e = await startE2eStack({
    datashares: seedOf(RESERVES.flatMap((r) => Object.values(targets(r)))),
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 6,
    seed: 61,
  });
  worker = await e2e.startWorker(() => Promise.reject(new Error('no handler yet')), {
    functionTimeoutMs: FUNCTION_TIMEOUT_MS,
  });
});

afterAll(async () => {
  await worker?.stop();
  await e2e?.stop();
});

it.each(RESERVES)(
  'rule 8 with DEADLINE_RESERVE_MS=%s: a call that hangs until the deadline leaves the batch time to audit; the handler returns in time and audits each decision once',
  async (reserve) => {
    // Prepare: the slow target's call is applied, then never answered; requests time out late
    const { slow, fast } = targets(reserve);
    e2e.stack.redshift.setFaults({
      failNext: [
        {
          kind: 'hang',
          when: 'after',
          dataShareArn: slow.dataShareArn,
          consumer: slow.consumerArn,
        },
      ],
    });
    const service = createLambdaService({
      coldStart: coldStartFromConfig({
        ...e2e.env,
        DEADLINE_RESERVE_MS: reserve,
        REDSHIFT_REQUEST_TIMEOUT_MS: '20000',
      }),
    });
    worker.use(service.handler);

    // Act
    const sent = await e2e.send([
      revocationRequest(`reserve-${reserve}/slow`, slow),
      revocationRequest(`reserve-${reserve}/fast`, fast),
    ]);
    await worker.drain({ idleTimeoutMs: 50_000 });
    await service.settled();

    // Assess: no Lambda timeout; the fast decision acknowledged at once and audited once
    const [first] = reportsOf(worker.reports, sent);
    expect.soft(first?.failure?.message).toBeUndefined();
    expect.soft(first?.deletedMessageIds).toEqual([sent[1]?.messageId]);
    expect
      .soft(
        auditOf(e2e.auditEvents(), `reserve-${reserve}/fast`).map((d) => [
          d.outcome,
          d.receiveCount,
        ]),
      )
      .toEqual([['REVOKED', 1]]);
    expect
      .soft(auditOf(e2e.auditEvents(), `reserve-${reserve}/slow`).map((d) => d.receiveCount))
      .toHaveLength(1);
    expect(e2e.stack.redshift.countCalls(callFilter(fast)).total).toBe(1);
  },
  60_000,
);
