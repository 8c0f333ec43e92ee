/**
 * The conservation run's faults, all drawn from its seed: random faults on every call the worker
 * makes (Redshift, EventBridge, DynamoDB, SQS — lost answers included), handler timeouts, and
 * store episodes: outages of several seconds (every store call fails, or hangs) and slow periods.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { EventBridgeFaultsPatch } from '../../../src/local/eventbridge-emulator/index.js';
import type { FaultProxy, ProxyFaultsPatch } from '../../../src/local/fault-proxy/index.js';
import type { RedshiftFaultsPatch } from '../../../src/local/redshift-emulator/index.js';

/** The DynamoDB operations of the store: claims, completions/resolutions/marks, forget, reads, and the batched claims, reads and completions. */
export const STORE_OPERATIONS = [
  'UpdateItem',
  'TransactWriteItems',
  'PutItem',
  'DeleteItem',
  'GetItem',
  'BatchGetItem',
  'BatchWriteItem',
];
/**
 * The SQS calls whose answers may be lost: the worker's DLQ copies and visibility changes, and the
 * poller's deletes (the mapping polls through the proxy). Never `ReceiveMessage`: a lost receive
 * only delays messages by a visibility timeout, which the handler timeouts already do.
 */
export const SQS_LOST_ANSWER_OPERATIONS = [
  'SendMessageBatch',
  'ChangeMessageVisibilityBatch',
  'ChangeMessageVisibility',
  'DeleteMessage',
  'DeleteMessageBatch',
];

export type StoreEpisodeKind = 'outage-error' | 'outage-hang' | 'slow';

export interface StoreEpisodes {
  /** When the first episode begins, after the run starts. */
  firstAfterMs: number;
  /** The quiet time between the end of one episode and the next, drawn in [min, max]. */
  gapMs: { min: number; max: number };
  /** At most this many (default: as long as the run sends). */
  max?: number;
  /** Outages last 2–4 s; a slow period adds this latency to every store call for 3 s. */
  slowLatencyMs: number;
}

export interface ConservationFaults {
  redshift: RedshiftFaultsPatch;
  eventBridge: EventBridgeFaultsPatch;
  /** The store's steady faults; episodes come on top and are restored to these. */
  dynamoDb: ProxyFaultsPatch;
  sqs: ProxyFaultsPatch;
  /** Share of invocations whose response is held back past the function timeout. */
  handlerTimeoutRate: number;
  episodes: StoreEpisodes;
}

const between = (random: () => number, min: number, max: number): number =>
  Math.round((min + random() * (max - min)) * 1000) / 1000;

const pick = <T>(items: readonly T[], random: () => number): T =>
  items[Math.floor(random() * items.length)] as T;

/**
 * Modest rates, so that a run of a few hundred requests finishes in seconds while every kind
 * still fires: each is drawn within a range, and `lostAs` picks how each lost answer shows.
 */
export const drawFaults = (
  random: () => number,
  episodes: Omit<StoreEpisodes, 'slowLatencyMs'> & { slowLatencyMs?: number },
): ConservationFaults => ({
  redshift: {
    // Throttles now and then, without making the control plane the run's bottleneck.
    throttleRps: 40,
    burst: 20,
    errorRate: between(random, 0.01, 0.03),
    hangRate: between(random, 0, 0.01),
    resetRate: between(random, 0.01, 0.02),
    lostAnswerRate: between(random, 0.02, 0.04),
    lostAs: pick(['error', 'reset', 'hang'] as const, random),
  },
  eventBridge: {
    entryFailureRate: between(random, 0.01, 0.03),
    lostAnswerRate: between(random, 0.01, 0.03),
    lostAs: pick(['error', 'reset', 'hang'] as const, random),
  },
  dynamoDb: {
    throttleRate: between(random, 0.005, 0.015),
    errorRate: between(random, 0.005, 0.015),
    resetRate: between(random, 0.002, 0.008),
    hangRate: between(random, 0, 0.003),
    lostAnswerRate: { rate: between(random, 0.01, 0.03), operations: STORE_OPERATIONS },
    lostAs: pick(['error', 'reset', 'hang'] as const, random),
  },
  sqs: {
    errorRate: { rate: 0.01, operations: ['SendMessageBatch', 'ChangeMessageVisibilityBatch'] },
    lostAnswerRate: { rate: between(random, 0.02, 0.05), operations: SQS_LOST_ANSWER_OPERATIONS },
    // Not `hang`: Lambda's poller has no request timeout here to give up on one.
    lostAs: pick(['error', 'reset'] as const, random),
  },
  handlerTimeoutRate: 0.03,
  episodes: { slowLatencyMs: 2500, ...episodes },
});

/** One store episode as it happened. */
export interface EpisodeRecord {
  kind: StoreEpisodeKind;
  /** Milliseconds after the episodes started. */
  startMs: number;
  durationMs: number;
}

export interface EpisodeRunner {
  readonly episodes: readonly EpisodeRecord[];
  /** Ends the current episode (faults restored) and starts no other. */
  stop(): Promise<void>;
}

const NO_RATES = {
  throttleRate: 0,
  errorRate: 0,
  hangRate: 0,
  resetRate: 0,
  lostAnswerRate: 0,
  latencyMs: 0,
} as const;

/**
 * Plays store episodes on the DynamoDB proxy from now on: after `firstAfterMs`, an outage (every
 * call answered 500/503, or never answered) of 2–4 s or a slow period of 3 s, then a gap, and so
 * on. Each episode replaces the steady faults and restores them when it ends.
 */
export const startStoreEpisodes = (
  proxy: FaultProxy,
  steady: ProxyFaultsPatch,
  plan: StoreEpisodes,
  random: () => number,
): EpisodeRunner => {
  const episodes: EpisodeRecord[] = [];
  const stopped = new AbortController();
  const startedAt = Date.now();
  const restore = () => proxy.setFaults({ ...NO_RATES, ...steady });
  const sleep = (ms: number) =>
    delay(ms, undefined, { signal: stopped.signal }).then(
      () => true,
      () => false,
    );
  const loop = (async () => {
    if (!(await sleep(plan.firstAfterMs))) return;
    // The first three are one of each kind, in a seeded order: a short run sees several kinds.
    const firstKinds: StoreEpisodeKind[] = ['outage-error', 'outage-hang', 'slow'];
    for (let i = 0; i < firstKinds.length; i++) {
      const j = i + Math.floor(random() * (firstKinds.length - i));
      [firstKinds[i], firstKinds[j]] = [
        firstKinds[j] as StoreEpisodeKind,
        firstKinds[i] as StoreEpisodeKind,
      ];
    }
    for (let n = 0; plan.max === undefined || n < plan.max; n++) {
      const kind = firstKinds[n] ?? pick(['outage-error', 'outage-hang', 'slow'] as const, random);
      const durationMs = kind === 'slow' ? 3000 : Math.round(between(random, 2000, 4000));
      episodes.push({ kind, startMs: Date.now() - startedAt, durationMs });
      proxy.setFaults(
        kind === 'slow'
          ? { latencyMs: plan.slowLatencyMs }
          : { ...NO_RATES, ...(kind === 'outage-error' ? { errorRate: 1 } : { hangRate: 1 }) },
      );
      const finished = await sleep(durationMs);
      restore();
      if (!finished) return;
      if (!(await sleep(Math.round(between(random, plan.gapMs.min, plan.gapMs.max))))) return;
    }
  })();
  return {
    episodes,
    stop: async () => {
      stopped.abort();
      await loop;
      restore();
    },
  };
};
