/**
 * Latency: how long one batch of distinct revocations takes when Redshift is slow (but not
 * throttling), against the floor of one Redshift round trip. The handler is invoked directly on
 * the local stack (DynamoDB, Redshift and EventBridge emulators); worker and baseline batches
 * alternate so that drift on a shared machine hits both alike.
 */
import { performance } from 'node:perf_hooks';
import type { SQSBatchResponse } from 'aws-lambda';
import { createLambdaContext } from '../../src/local/esm/context.js';
import { type Container, type ContainerKind, createContainer, createProbe } from '../containers.js';
import type { Progress } from '../progress.js';
import { useEnvironment } from '../queue.js';
import { seededRandom } from '../random.js';
import { type StackHost, startStackHost } from '../stack-host/index.js';
import { median, round, type Sample, summarize } from '../statistics.js';
import { type BenchTarget, makeTargets, requestBody, seedOf, sqsRecord } from '../workload.js';

export interface LatencySettings {
  /** Measured batches per side (≥ 10 for the reported median). */
  batches: number;
  /** Batches per side run first and left out (connections, JIT). */
  warmupBatches: number;
  batchSize: number;
  latencyMs: number;
  functionTimeoutMs: number;
  seed: number;
  /**
   * DynamoDB answers each request this much later (the fault proxy in front of the emulator), as
   * across a network: the emulator alone answers in about a millisecond, so store requests that
   * overlap save little time here unless it is set (`--store-latency-ms`). 0 in the full run.
   */
  storeLatencyMs: number;
  /** Environment on top of the local stack's, for both sides (`--worker-env`). */
  workerEnv: Record<string, string>;
  /**
   * The worker's own configuration (the baseline never sees it): hub mode and the guardrails
   * (`GUARDED_WORKER`), or nothing with `--defaults`.
   */
  workerConfiguration: Readonly<Record<string, string>>;
}

export interface LatencySideResult {
  kind: ContainerKind;
  /** Batch durations, ms. */
  durationMs: Sample;
  /** Median batch duration ÷ Redshift latency. */
  ratio: number;
  /** Batch item failures over the measured batches (expected 0: nothing throttles here). */
  itemFailures: number;
  /**
   * Worker only, medians over the measured batches, ms: invocation start → first Redshift attempt
   * (claims, confirmations), first attempt start → last attempt end, last attempt end → return
   * (resolutions, audit, completion); and the spacing of attempt starts.
   */
  breakdownMs?: {
    beforeFirstCall: number;
    callWindow: number;
    afterLastCall: number;
    firstToLastCallStart: number;
  };
}

export interface LatencyResult {
  settings: LatencySettings;
  worker?: LatencySideResult;
  baseline?: LatencySideResult;
}

const identity = {
  functionName: 'datashare-revoker-bench',
  partition: 'aws',
  region: 'us-east-1',
  accountId: '111122223333',
  memoryLimitInMB: 512,
};

/** Invokes one batch of fresh targets; returns its duration in ms and its response. */
export const timeBatch = async (
  container: Container,
  targets: readonly BenchTarget[],
  host: StackHost,
  label: string,
  functionTimeoutMs: number,
): Promise<{ ms: number; response: SQSBatchResponse }> => {
  const issuedAt = new Date().toISOString();
  const records = targets.map((target, i) =>
    sqsRecord(requestBody(`${label}/${i}`, target, issuedAt), host.queues.source.arn),
  );
  const context = createLambdaContext(
    identity,
    `bench/[$LATEST]${label}`,
    Date.now() + functionTimeoutMs,
  );
  const started = performance.now();
  const response = await container.handler({ Records: records }, context);
  return { ms: performance.now() - started, response };
};

export const runLatency = async (
  settings: LatencySettings,
  progress: Progress,
  sides: readonly ContainerKind[] = ['worker', 'baseline'],
): Promise<LatencyResult> => {
  progress.step(`latency (${sides.join(' and ')}, alternating)`);
  const perSide = (settings.warmupBatches + settings.batches) * settings.batchSize;
  const random = seededRandom(settings.seed);
  const targets = Object.fromEntries(
    sides.map((kind) => [kind, makeTargets(perSide, `latency_${kind}`, random)]),
  ) as Record<ContainerKind, BenchTarget[]>;
  progress.status('starting the local stack');
  const host = await startStackHost({
    seed: settings.seed,
    datashares: seedOf(sides.flatMap((kind) => targets[kind])),
    redshiftFaults: { latencyMs: settings.latencyMs },
    ...(settings.storeLatencyMs > 0 && { dynamoDbFaults: { latencyMs: settings.storeLatencyMs } }),
  });
  const env = { ...host.env, ...settings.workerEnv };
  const restoreEnvironment = useEnvironment(env);
  const probe = createProbe();
  const containers = Object.fromEntries(
    await Promise.all(
      sides.map(async (kind, index) => [
        kind,
        await createContainer(
          kind,
          index,
          kind === 'worker' ? { ...env, ...settings.workerConfiguration } : env,
          probe,
        ),
      ]),
    ),
  ) as Record<ContainerKind, Container>;
  const durations: Record<ContainerKind, number[]> = { worker: [], baseline: [] };
  const breakdowns: { before: number; window: number; after: number; starts: number }[] = [];
  const failures: Record<ContainerKind, number> = { worker: 0, baseline: 0 };
  try {
    const rounds = settings.warmupBatches + settings.batches;
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first, so neither side always runs right after the other.
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const kind of order) {
        const batch = targets[kind].slice(
          round * settings.batchSize,
          (round + 1) * settings.batchSize,
        );
        const { ms, response } = await timeBatch(
          containers[kind],
          batch,
          host,
          `latency-${kind}-${round}`,
          settings.functionTimeoutMs,
        );
        if (round >= settings.warmupBatches) {
          durations[kind].push(ms);
          failures[kind] += response.batchItemFailures.length;
          const invocation = probe.invocations.at(-1);
          const attempts = probe.attempts.filter(
            (a) =>
              invocation && a.startedAt >= invocation.startedAt && a.endedAt <= invocation.endedAt,
          );
          if (kind === 'worker' && invocation && attempts.length > 0) {
            const firstStart = Math.min(...attempts.map((a) => a.startedAt));
            const lastStart = Math.max(...attempts.map((a) => a.startedAt));
            const lastEnd = Math.max(...attempts.map((a) => a.endedAt));
            breakdowns.push({
              before: firstStart - invocation.startedAt,
              window: lastEnd - firstStart,
              after: invocation.endedAt - lastEnd,
              starts: lastStart - firstStart,
            });
          }
        }
      }
      progress.status(`batch ${round + 1}/${rounds}`);
    }
  } finally {
    for (const container of Object.values(containers)) container.close();
    restoreEnvironment();
    await host.stop();
  }
  const result: LatencyResult = { settings };
  for (const kind of sides) {
    const durationMs = summarize(durations[kind], 1);
    result[kind] = {
      kind,
      durationMs,
      ratio: round(durationMs.median / settings.latencyMs, 3),
      itemFailures: failures[kind],
      ...(kind === 'worker' &&
        breakdowns.length > 0 && {
          breakdownMs: {
            beforeFirstCall: round(median(breakdowns.map((b) => b.before)), 1),
            callWindow: round(median(breakdowns.map((b) => b.window)), 1),
            afterLastCall: round(median(breakdowns.map((b) => b.after)), 1),
            firstToLastCallStart: round(median(breakdowns.map((b) => b.starts)), 1),
          },
        }),
    };
  }
  progress.done(
    sides
      .map(
        (kind) => `${kind} median ${result[kind]?.durationMs.median} ms (×${result[kind]?.ratio})`,
      )
      .join(', '),
  );
  return result;
};
