/**
 * Stale decisions, from outside: an old decision replayed from the DLQ days later must not undo a
 * grant made after it. The real handler, the real CLI replay code, the emulators over their wire
 * protocols.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayDlq } from '../../src/cli/commands/dlq-replay.js';
import { testContext } from '../cli/helpers.js';
import { callFilter, dataShareArn, namespaceArn, revocationRequest, seedOf } from './fixtures.js';
import {
  auditOf,
  coldStartFromModule,
  createLambdaService,
  type E2eStack,
  type LambdaService,
  type RunningWorker,
  startE2eStack,
} from './harness.js';

const FUNCTION_TIMEOUT_MS = 6000;
const target = (name: string) => ({
  dataShareArn: dataShareArn(`stale_${name}`),
  consumerArn: namespaceArn(`stale-${name}`),
});
const T = {
  regranted: target('regranted'),
  gone: target('gone'),
  inForce: target('in-force'),
};
const HOUR_AGO = () => new Date(Date.now() - 3_600_000).toISOString();

let e2e: E2eStack;
let service: LambdaService;
let worker: RunningWorker;

const describeCalls = (t: { dataShareArn: string }) =>
  e2e.stack.redshift.countCalls({ operation: 'DescribeDataShares', dataShareArn: t.dataShareArn });

beforeAll(async () => {
  e2e = await startE2eStack({
    // Seeded associations carry no dates: they predate every decision of the run.
    datashares: seedOf([T.regranted, T.inForce], [T.gone]),
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 6,
    seed: 41,
    workerEnv: { DEADLINE_RESERVE_MS: '2000' },
  });
  service = createLambdaService({ coldStart: coldStartFromModule });
  worker = await e2e.startWorker(service.handler, { functionTimeoutMs: FUNCTION_TIMEOUT_MS });
});

afterAll(async () => {
  await worker?.stop();
  await service?.settled();
  await e2e?.stop();
});

describe('stale decisions', () => {
  it('a decision dead-lettered after its call took effect, replayed from the DLQ with `revoker dlq replay` once the consumer was associated again, is SUPERSEDED: no call, grant intact, audited once, acknowledged, not dead-lettered', async () => {
    // Prepare: the disassociate call takes effect but its answer is an access denial (permanent):
    // FAILED and dead-lettered, although the consumer did lose access.
    const t = T.regranted;
    e2e.stack.redshift.setFaults({
      failNext: [
        {
          kind: 'accessDenied',
          when: 'after',
          operation: 'DisassociateDataShareConsumer',
          dataShareArn: t.dataShareArn,
          consumer: t.consumerArn,
        },
      ],
    });
    await e2e.send([revocationRequest('stale/regranted', t)]);
    await worker.drain();
    expect(e2e.stack.redshift.isAssociated(t.dataShareArn, t.consumerArn)).toBe(false);
    expect(await e2e.depth('deadLetter')).toMatchObject({ visible: 1 });
    // The data owner grants access again (the consumer account's AssociateDataShareConsumer).
    const regrant = await fetch(`${e2e.stack.redshift.endpoint}/__emulator/associate`, {
      method: 'POST',
      body: JSON.stringify({ dataShareArn: t.dataShareArn, consumer: t.consumerArn }),
    });
    expect(regrant.status).toBe(200);
    const regrantedAt = Date.now();

    // Act: the operator replays the DLQ with the CLI's replay code
    const cli = testContext(e2e.sqs);
    const replay = await replayDlq(cli.context, {
      dlqUrl: e2e.stack.queues.deadLetter.url,
      queueUrl: e2e.stack.queues.source.url,
      filter: {},
      dryRun: false,
      yes: true,
      reason: 'INC-7: access fixed',
      policy: { maxReplays: 3, force: false },
      waitTimeSeconds: 0,
    });
    await worker.drain();

    // Assess
    expect(replay.exitCode).toBe(0);
    expect(replay.summary).toMatchObject({ replayed: 1 });
    expect(e2e.stack.redshift.isAssociated(t.dataShareArn, t.consumerArn)).toBe(true);
    expect(e2e.stack.redshift.countCalls(callFilter(t)).total).toBe(1);
    expect(describeCalls(t).ok).toBeGreaterThanOrEqual(1);
    const audits = auditOf(e2e.auditEvents(), 'stale/regranted');
    expect(audits).toMatchObject([
      { outcome: 'FAILED', replayed: false, error: { code: 'AccessDenied' } },
      { outcome: 'SUPERSEDED', replayed: true, supersededBy: { status: 'ACTIVE' } },
    ]);
    const changedAt = Date.parse(audits[1]?.supersededBy?.associationChangedAt ?? '');
    expect(changedAt).toBeGreaterThan(regrantedAt - 5000);
    expect(changedAt).toBeLessThanOrEqual(regrantedAt);
    expect(await e2e.depth('deadLetter')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await e2e.depth('source')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('an old decision whose consumer has no ACTIVE association is ALREADY_REVOKED from DescribeDataShares alone; one whose association predates it is revoked by its call', async () => {
    // Act
    await e2e.send([
      revocationRequest('stale/gone', T.gone, { issuedAt: HOUR_AGO() }),
      revocationRequest('stale/in-force', T.inForce, { issuedAt: HOUR_AGO() }),
    ]);
    await worker.drain();

    // Assess
    expect(e2e.stack.redshift.countCalls(callFilter(T.gone)).total).toBe(0);
    expect(describeCalls(T.gone).ok).toBe(1);
    expect(auditOf(e2e.auditEvents(), 'stale/gone')).toMatchObject([
      { outcome: 'ALREADY_REVOKED', attempts: 1 },
    ]);
    expect(e2e.stack.redshift.countCalls(callFilter(T.inForce)).total).toBe(1);
    expect(describeCalls(T.inForce).ok).toBe(1);
    expect(e2e.stack.redshift.isAssociated(T.inForce.dataShareArn, T.inForce.consumerArn)).toBe(
      false,
    );
    expect(auditOf(e2e.auditEvents(), 'stale/in-force')).toMatchObject([
      { outcome: 'REVOKED', attempts: 2 },
    ]);
  });
});
