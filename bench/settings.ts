import type { ColdStartSettings } from './cold-start/scenario.js';
import type { LatencySettings } from './scenarios/latency.js';
import type { MemorySettings } from './scenarios/memory.js';
import type { StormSettings } from './scenarios/storm.js';
import type { StormMultiAccountSettings } from './scenarios/storm-multi-account.js';
import type { ThroughputSettings } from './scenarios/throughput.js';
import { BENCH_DATASHARES } from './workload.js';

export const SCENARIOS = [
  'storm',
  'stormMultiAccount',
  'latency',
  'cold-start',
  'throughput',
  'memory',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchSettings {
  storm: StormSettings;
  stormMultiAccount: StormMultiAccountSettings;
  latency: LatencySettings;
  coldStart: ColdStartSettings;
  throughput: ThroughputSettings;
  memory: MemorySettings;
}

/**
 * The worker's configuration in every scenario: issue 12 measures it "with hub mode and the
 * guardrails on". On top of the defaults (the stale check and the refusal of broad targets are
 * always on): hub mode, acting in the hub's own account with its own credentials (no STS call;
 * stormMultiAccount names its spokes), the breaker, and a datashare fence every bench datashare
 * passes. The breaker allows 5,000 revocations in 2 s: it never opens here (the memory scenario
 * revokes about 500 a second), and a 2-second window has the narrowest buckets (100 ms), so the
 * most full writes of its record — its cost at the worst. The baseline has none of them.
 * `--defaults` leaves them out: the worker as deployed with no option set.
 */
export const GUARDED_WORKER: Readonly<Record<string, string>> = {
  CONSUMER_ROLE_NAME: 'datashare-revoker-spoke',
  CONSUMER_ACCOUNTS: '*',
  BREAKER_MAX_REVOCATIONS: '5000',
  BREAKER_WINDOW_SECONDS: '2',
  ALLOWED_DATASHARES: BENCH_DATASHARES,
};

/** One seed for every workload: the same run, request for request, each time. */
const SEED = 20_261_125;

/**
 * The full run (`npm run bench`). Lambda settings are the deployed defaults (serverless.yml:
 * timeout 30 s, batch size 10, MaximumConcurrency 5, maxReceiveCount 5); the source queue's
 * visibility timeout is the smallest Lambda accepts (= the function timeout) rather than the
 * deployed 6 × timeout, so that a message that must come back does so within the run.
 */
export const FULL: BenchSettings = {
  storm: {
    requests: 2000,
    targets: 400,
    uniqueEventIds: 1500,
    seed: SEED,
    rateLimitRps: 40,
    burst: 5,
    latencyMs: 20,
    containers: 5,
    batchSize: 10,
    functionTimeoutMs: 30_000,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 5,
    issuedBeforeStartMs: 60_000,
    drainTimeoutMs: 100_000,
    workerEnv: {},
    workerConfiguration: GUARDED_WORKER,
  },
  /**
   * The storm's backlog (same sizes, containers and Lambda settings) over the hub and three
   * spokes limited to 40, 40, 20 and 10 calls/s, 100 targets each: the 10/s spoke's floor
   * (10 s) is the storm's T0, and the others' floors are 2.5, 2.5 and 5 s.
   */
  stormMultiAccount: {
    requests: 2000,
    targets: 400,
    uniqueEventIds: 1500,
    seed: SEED,
    accounts: [
      { accountId: '111122223333', rateLimitRps: 40 },
      { accountId: '222233334444', rateLimitRps: 40 },
      { accountId: '333344445555', rateLimitRps: 20 },
      { accountId: '555566667777', rateLimitRps: 10 },
    ],
    roleName: 'datashare-revoker-spoke',
    externalId: 'datashare-revoker',
    burst: 5,
    latencyMs: 20,
    containers: 5,
    batchSize: 10,
    functionTimeoutMs: 30_000,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 5,
    issuedBeforeStartMs: 60_000,
    drainTimeoutMs: 100_000,
    workerEnv: {},
    workerConfiguration: GUARDED_WORKER,
  },
  latency: {
    batches: 10,
    warmupBatches: 1,
    batchSize: 10,
    latencyMs: 200,
    storeLatencyMs: 0,
    functionTimeoutMs: 30_000,
    seed: SEED,
    workerEnv: {},
    workerConfiguration: GUARDED_WORKER,
  },
  coldStart: { runs: 15, warmupRuns: 1, workerConfiguration: GUARDED_WORKER },
  throughput: {
    containers: 10,
    rounds: 4,
    roundMs: 1500,
    warmupBatches: 3,
    maxBatches: 700,
    batchSize: 10,
    functionTimeoutMs: 30_000,
    seed: SEED,
    workerEnv: {},
    workerConfiguration: GUARDED_WORKER,
  },
  memory: {
    messages: 20_000,
    firstCheckpoint: 1000,
    batchSize: 10,
    functionTimeoutMs: 30_000,
    seed: SEED,
    workerConfiguration: GUARDED_WORKER,
  },
};

/**
 * The smoke sizes (`--quick`, and test/bench/smoke.test.ts): every scenario end to end in
 * seconds. The figures mean little; the shape of the results and the invariants are what count.
 * The storm's function timeout and visibility timeout are short so that returned messages come
 * back within seconds; the worker's deadline reserve shrinks with them.
 */
export const QUICK: BenchSettings = {
  storm: {
    ...FULL.storm,
    requests: 40,
    targets: 10,
    uniqueEventIds: 30,
    functionTimeoutMs: 5000,
    visibilityTimeoutSeconds: 5,
    // Long enough for one scheduled retry (rule 11: 15–30 s after a first receive).
    drainTimeoutMs: 40_000,
    workerEnv: { DEADLINE_RESERVE_MS: '2000' },
  },
  stormMultiAccount: {
    ...FULL.stormMultiAccount,
    requests: 40,
    targets: 12,
    uniqueEventIds: 30,
    functionTimeoutMs: 5000,
    visibilityTimeoutSeconds: 5,
    drainTimeoutMs: 40_000,
    workerEnv: { DEADLINE_RESERVE_MS: '2000' },
  },
  latency: { ...FULL.latency, batches: 2, warmupBatches: 1, batchSize: 3, latencyMs: 50 },
  coldStart: { ...FULL.coldStart, runs: 1, warmupRuns: 0 },
  throughput: {
    ...FULL.throughput,
    containers: 2,
    rounds: 2,
    roundMs: 250,
    warmupBatches: 1,
    maxBatches: 30,
    batchSize: 3,
  },
  memory: { ...FULL.memory, messages: 200, firstCheckpoint: 100 },
};
