/**
 * A smoke run of the benchmark: every scenario at the `--quick` sizes, through the same code as
 * `npm run bench`. The figures at these sizes mean little; what is checked is the shape of the
 * results and the invariants every run must keep (nothing lost, nothing audited twice by the
 * worker, every count consistent with the emulators'). The targets are not checked here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type BenchResults, runBench } from '../../bench/bench.js';
import { silentProgress } from '../../bench/progress.js';
import { GUARDED_WORKER, QUICK } from '../../bench/settings.js';

let results: BenchResults;

beforeAll(async () => {
  results = await runBench({ quick: true, progress: silentProgress });
}, 120_000);

describe('bench smoke run (--quick)', () => {
  it('records the machine, the Node version, the commit and the mode', () => {
    // Assess
    expect(results).toMatchObject({
      schemaVersion: 1,
      mode: 'quick',
      scenarios: ['storm', 'stormMultiAccount', 'latency', 'cold-start', 'throughput', 'memory'],
      singleThread: false,
      node: process.version,
    });
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(results.machine.cpuModel).not.toBe('');
    expect(results.machine.memoryGiB).toBeGreaterThan(0);
    expect(Date.parse(results.generatedAt)).not.toBeNaN();
    expect(results.git.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('storm: the worker drains the queue and audits every eventId exactly once', () => {
    // Prepare
    const storm = results.storm;
    const worker = storm?.worker;

    // Assess
    expect(worker?.drained).toBe(true);
    expect(worker?.audit).toMatchObject({
      events: QUICK.storm.uniqueEventIds,
      expectedEventIds: QUICK.storm.uniqueEventIds,
      auditedEventIds: QUICK.storm.uniqueEventIds,
      missingEventIds: 0,
      duplicateEvents: 0,
      exactlyOnce: true,
    });
    expect(worker?.queue).toMatchObject({ deadLettered: 0, leftInQueue: 0 });
    expect(worker?.targetsStillAssociated).toBe(0);
  });

  it('storm: each target is disassociated by exactly one successful call, on both sides', () => {
    for (const side of [results.storm?.worker, results.storm?.baseline]) {
      // Assess
      expect(side?.disassociateCalls.ok).toBe(QUICK.storm.targets);
      expect(side?.targetsStillAssociated).toBe(0);
      expect(side?.amplification).toBeCloseTo(
        (side?.disassociateCalls.total ?? 0) / QUICK.storm.targets,
        3,
      );
    }
  });

  it('storm: the attempts the worker containers made are the calls Redshift received', () => {
    // Prepare
    const worker = results.storm?.worker;
    const attempts = (worker?.containers ?? []).reduce(
      (sum, c) => sum + (c.attempts?.total ?? 0),
      0,
    );
    const timeline = worker?.timeline ?? [];

    // Assess: one container per concurrent invocation, each with its own figures
    expect(worker?.containers).toHaveLength(QUICK.storm.containers);
    expect(attempts).toBe(worker?.disassociateCalls.total);
    expect(timeline.reduce((sum, s) => sum + s.disassociateOk + s.disassociateThrottled, 0)).toBe(
      worker?.disassociateCalls.total,
    );
    expect(timeline.reduce((sum, s) => sum + s.disassociateThrottled, 0)).toBe(
      worker?.throttledCalls,
    );
    // A call after a target's revocation is answered "not associated": never a second success.
    expect(worker?.repeatCalls.count).toBe(worker?.disassociateCalls.rejected);
  });

  it('storm: the baseline audits every message it acknowledges, duplicates included', () => {
    // Prepare
    const baseline = results.storm?.baseline;

    // Assess
    expect(baseline?.drained).toBe(true);
    expect(baseline?.audit.auditedEventIds).toBe(QUICK.storm.uniqueEventIds);
    expect(baseline?.audit.events).toBeGreaterThanOrEqual(QUICK.storm.requests);
    expect(baseline?.audit.exactlyOnce).toBe(false);
  });

  it('stormMultiAccount: the worker in hub mode audits every eventId of every account exactly once', () => {
    // Prepare
    const { worker, settings } = results.stormMultiAccount ?? {};
    const accounts = worker?.accounts ?? [];

    // Assess
    expect(worker?.drained).toBe(true);
    expect(worker?.audit).toMatchObject({
      events: QUICK.stormMultiAccount.uniqueEventIds,
      auditedEventIds: QUICK.stormMultiAccount.uniqueEventIds,
      duplicateEvents: 0,
      exactlyOnce: true,
    });
    expect(worker?.queue).toMatchObject({ deadLettered: 0, leftInQueue: 0 });
    expect(accounts.map((a) => a.accountId)).toEqual(settings?.accounts.map((a) => a.accountId));
    expect(accounts.reduce((sum, a) => sum + a.eventIds, 0)).toBe(
      QUICK.stormMultiAccount.uniqueEventIds,
    );
    expect(accounts.reduce((sum, a) => sum + a.messages, 0)).toBe(QUICK.stormMultiAccount.requests);
    for (const account of accounts) {
      expect(account.lastAuditSeconds).not.toBeNull();
      expect(account.lastAuditSeconds).toBeLessThanOrEqual(worker?.allAuditedSeconds ?? 0);
      expect(account.floorSeconds).toBeCloseTo(account.targets / account.rateLimitRps, 3);
    }
  });

  it('stormMultiAccount: each account revokes its own targets, and each spoke role is assumed at most once per container', () => {
    // Prepare
    const { worker, baseline, floorSeconds } = results.stormMultiAccount ?? {};

    // Assess: every target revoked by one successful call in its own account, on both sides
    expect(floorSeconds).toBe(Math.max(...(worker?.accounts ?? []).map((a) => a.floorSeconds)));
    for (const side of [worker, baseline]) {
      expect(side?.targetsStillAssociated).toBe(0);
      expect(side?.disassociateCalls.ok).toBe(QUICK.stormMultiAccount.targets);
      for (const account of side?.accounts ?? []) {
        expect(account.disassociateCalls.ok).toBe(account.targets);
        if (account.hub) expect(account.assumeRoleCalls).toBeNull();
        else
          expect(account.assumeRoleCalls).toBeLessThanOrEqual(QUICK.stormMultiAccount.containers);
      }
      expect((side?.accounts ?? []).reduce((sum, a) => sum + a.disassociateCalls.total, 0)).toBe(
        side?.disassociateCalls.total,
      );
    }
  });

  it('latency: no batch beats one Redshift round trip, and the baseline pays one per record', () => {
    // Prepare
    const { worker, baseline, settings } = results.latency ?? {};

    // Assess
    expect(worker?.durationMs.runs).toBe(QUICK.latency.batches);
    expect(worker?.ratio).toBeGreaterThanOrEqual(1);
    expect(baseline?.ratio).toBeGreaterThanOrEqual(settings?.batchSize ?? Number.NaN);
    expect(worker?.itemFailures).toBe(0);
    expect(baseline?.itemFailures).toBe(0);
    expect(worker?.breakdownMs?.callWindow).toBeGreaterThan(0);
  });

  it('cold start: three bundles built as serverless.yml says, each imported in a fresh process', () => {
    // Prepare
    const coldStart = results.coldStart;

    // Assess
    expect(coldStart?.esbuild.nodeOptions).toBe('--enable-source-maps');
    for (const bundle of [coldStart?.floor, coldStart?.worker, coldStart?.baseline]) {
      expect(bundle?.bytes).toBeGreaterThan(0);
      expect(bundle?.mapBytes).toBeGreaterThan(0);
      // Split: the SDK's credential providers are imported with import(), so in every bundle
      // some code is read only later, and the handler's file imports shared chunks at init.
      expect(bundle?.totalBytes).toBeGreaterThan(bundle?.bytes ?? Number.POSITIVE_INFINITY);
      expect(bundle?.totalFiles).toBeGreaterThan(bundle?.initFiles ?? Number.POSITIVE_INFINITY);
      expect(bundle?.initFiles).toBeGreaterThan(1);
      expect(bundle?.initMs.runs).toBe(QUICK.coldStart.runs);
      expect(bundle?.initMs.median).toBeGreaterThan(0);
      expect(bundle?.wallMs.median).toBeGreaterThan(bundle?.initMs.median ?? 0);
    }
    // The worker bundles everything the floor does, and more.
    expect(coldStart?.worker.bytes).toBeGreaterThan(coldStart?.floor.bytes ?? 0);
    expect(coldStart?.workerVsFloor.bundle).toBeCloseTo(
      (coldStart?.worker.bytes ?? 0) / (coldStart?.floor.bytes ?? 1),
      3,
    );
    expect(coldStart?.workerVsBaseline.total).toBeCloseTo(
      (coldStart?.worker.totalBytes ?? 0) / (coldStart?.baseline.totalBytes ?? 1),
      3,
    );
    // The breaker's Lambda client is in the zip, but read only when the breaker opens.
    expect(coldStart?.worker.lazyComposition['@aws-sdk/client-lambda']).toBeGreaterThan(0);
    expect(coldStart?.worker.composition).not.toHaveProperty('@aws-sdk/client-lambda');
    // Measured as configured (the breaker on: its chunk is read at init), and with the defaults.
    expect(coldStart?.settings.workerConfiguration).toEqual(GUARDED_WORKER);
    expect(coldStart?.worker.bytes).toBeGreaterThan(coldStart?.worker.bytesDefaults ?? 0);
    expect(coldStart?.floor.bytesDefaults).toBe(coldStart?.floor.bytes);
  });

  it('the worker runs in hub mode with the guardrails on in every scenario, the baseline without', () => {
    // Assess: the breaker counted the storm's calls in the store; the fence let every target by
    expect(results.workerConfiguration).toEqual(GUARDED_WORKER);
    for (const settings of [
      results.storm?.settings,
      results.latency?.settings,
      results.throughput?.settings,
      results.memory?.settings,
    ])
      expect(settings?.workerConfiguration).toEqual(GUARDED_WORKER);
    expect(results.storm?.worker?.storeRequests?.byMethod.reserveRevocations).toBeGreaterThan(0);
    expect(results.storm?.worker?.audit.outcomes).not.toHaveProperty('REJECTED');
  });

  it('throughput: both sides process every batch they take, and the rates are consistent', () => {
    for (const side of [results.throughput?.worker, results.throughput?.baseline]) {
      // Assess
      expect(side?.messages).toBeGreaterThan(0);
      expect(side?.itemFailures).toBe(0);
      expect(side?.messagesPerCoreSecond).toBeGreaterThanOrEqual(side?.messagesPerSecond ?? 0);
      expect(side?.eventLoopUtilization).toBeGreaterThan(0);
      expect(side?.eventLoopUtilization).toBeLessThanOrEqual(1.05);
    }
  });

  it('throughput: one Redshift call per message on both sides, one PutEvents per message for the baseline', () => {
    // Prepare
    const { worker, baseline } = results.throughput ?? {};

    // Assess
    expect(worker?.awsCallsPerMessage.redshift).toBe(1);
    expect(worker?.awsCallsPerMessage.eventBridge).toBeLessThanOrEqual(1);
    expect(worker?.awsCallsPerMessage.dynamoDb).toBeGreaterThan(0);
    expect(baseline?.awsCallsPerMessage).toEqual({ redshift: 1, eventBridge: 1, dynamoDb: 0 });
  });

  it('storm: the store requests the emulator received are counted, and the CPU per message', () => {
    // Prepare
    const worker = results.storm?.worker;
    const baseline = results.storm?.baseline;
    const received = Object.values(worker?.storeRequests?.dynamoDbByOperation ?? {}).reduce(
      (sum, n) => sum + n,
      0,
    );
    const atPort = Object.values(worker?.storeRequests?.byMethod ?? {}).reduce((a, b) => a + b, 0);

    // Assess: every port call is at least one request (a claim may read after a lost race).
    expect(received).toBeGreaterThanOrEqual(atPort);
    expect(atPort).toBeGreaterThan(0);
    expect(worker?.storeRequests?.dynamoDbPerMessage).toBeCloseTo(
      received / (worker?.queue.deliveries ?? 1),
      2,
    );
    expect(baseline?.storeRequests).toBeUndefined();
    expect(worker?.cpu.processMsPerMessage).toBeGreaterThan(0);
    expect(worker?.cpu.singleThread).toBe(false);
  });

  it('memory: one container takes every message, with RSS at both checkpoints and a peak', () => {
    // Prepare
    const memory = results.memory?.worker;

    // Assess
    expect(memory?.messages).toBe(QUICK.memory.messages);
    expect(memory?.itemFailures).toBe(0);
    expect(memory?.checkpoints.map((c) => c.messages)).toEqual([
      QUICK.memory.firstCheckpoint,
      QUICK.memory.messages,
    ]);
    for (const checkpoint of memory?.checkpoints ?? []) {
      expect(checkpoint.rssMiB).toBeGreaterThan(0);
      expect(memory?.peakRssMiB).toBeGreaterThanOrEqual(checkpoint.rssMiB);
    }
    expect(memory?.growth).toBeGreaterThan(0);
  });

  it('reports every target of the issue as pass or fail, and a table row per figure', () => {
    // Assess
    expect(results.targets.map((t) => t.id)).toEqual([
      'storm.drainRatio',
      'storm.amplification',
      'storm.auditExactlyOnce',
      'storm.storeRequests',
      'stormMultiAccount.storeRequests',
      'stormMultiAccount.drainRatio',
      'stormMultiAccount.amplification',
      'stormMultiAccount.auditExactlyOnce',
      'latency.ratio',
      'coldStart.init',
      'coldStart.bundle',
      'throughput.cpuPerMessage',
      'throughput.perCore',
      'memory.growth',
    ]);
    for (const target of results.targets) expect(typeof target.pass).toBe('boolean');
    expect(results.table.length).toBeGreaterThanOrEqual(15);
    for (const row of results.table) {
      expect(Object.keys(row)).toHaveLength(8);
      expect(row.figure).not.toBe('');
    }
  });
});
