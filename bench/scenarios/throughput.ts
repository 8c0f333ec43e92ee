/**
 * Throughput: how many messages one core pushes through the handler when AWS answers at once —
 * the handler's own cost per message, SDK serialisation and logging included. Pre-built SQS
 * events go straight to the handlers (no queue) of a few containers at once, batch after batch,
 * against zero-latency emulators. The emulators run in a worker thread of this process, so the
 * main thread's event-loop activity is the handlers' alone: messages ÷ that active time is the
 * rate per core. Worker and baseline alternate in short rounds.
 */
import { performance } from 'node:perf_hooks';
import type { SQSEvent } from 'aws-lambda';
import { createLambdaContext } from '../../src/local/esm/context.js';
import {
  type Container,
  type ContainerKind,
  type ContainerProbe,
  createContainer,
  createProbe,
} from '../containers.js';
import type { Progress } from '../progress.js';
import { useEnvironment } from '../queue.js';
import { seededRandom } from '../random.js';
import { startStackHost } from '../stack-host/index.js';
import { round } from '../statistics.js';
import { type BenchTarget, makeTargets, requestBody, seedOf, sqsRecord } from '../workload.js';

export interface ThroughputSettings {
  /** Containers per side, each doing one batch at a time: enough to keep one core busy. */
  containers: number;
  /** Measured rounds per side; sides alternate round by round. */
  rounds: number;
  /** Wall time of one round, ms. */
  roundMs: number;
  /** Batches per container run first and left out (connections, JIT). */
  warmupBatches: number;
  /** Upper bound of batches per side (the targets seeded). */
  maxBatches: number;
  batchSize: number;
  functionTimeoutMs: number;
  seed: number;
  /** Environment on top of the local stack's, for both sides (`--worker-env`). */
  workerEnv: Record<string, string>;
  /**
   * The worker's own configuration (the baseline never sees it): hub mode and the guardrails
   * (`GUARDED_WORKER`), or nothing with `--defaults`.
   */
  workerConfiguration: Readonly<Record<string, string>>;
}

export interface ThroughputSideResult {
  kind: ContainerKind;
  messages: number;
  batches: number;
  wallSeconds: number;
  /** Main-thread event-loop active time: the handler's CPU, SDK and logging included. */
  activeSeconds: number;
  /** Messages per second of one core's active time. */
  messagesPerCoreSecond: number;
  /** Messages per wall-clock second of the measured rounds, all containers together. */
  messagesPerSecond: number;
  /** Share of the measured wall time the main thread was busy (1: the core was saturated). */
  eventLoopUtilization: number;
  /** Active CPU time per message, ms. */
  cpuMsPerMessage: number;
  /** AWS requests per message (DynamoDB: the worker's idempotency-store calls). */
  awsCallsPerMessage: { redshift: number; eventBridge: number; dynamoDb: number };
  itemFailures: number;
}

export interface ThroughputResult {
  settings: ThroughputSettings;
  worker?: ThroughputSideResult;
  baseline?: ThroughputSideResult;
}

const identity = {
  functionName: 'datashare-revoker-bench',
  partition: 'aws',
  region: 'us-east-1',
  accountId: '111122223333',
  memoryLimitInMB: 512,
};

interface Side {
  kind: ContainerKind;
  containers: Container[];
  events: SQSEvent[];
  next: number;
  messages: number;
  batches: number;
  wallMs: number;
  activeMs: number;
  itemFailures: number;
  calls: { redshift: number; eventBridge: number; dynamoDb: number };
}

const storeCallCount = (probe: ContainerProbe): number =>
  [...probe.storeCalls.values()].reduce((sum, n) => sum + n, 0);

/**
 * Every container of the side takes the next pre-built event, invokes its handler, and again,
 * until `untilMs` (performance.now()) or the events run out; a batch started is finished.
 */
const runRound = async (
  side: Side,
  shouldStop: (container: number, batches: number) => boolean,
  measured: boolean,
  timeoutMs: number,
): Promise<void> => {
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  let messages = 0;
  let failures = 0;
  let batches = 0;
  await Promise.all(
    side.containers.map(async (container, index) => {
      for (let own = 0; !shouldStop(index, own) && side.next < side.events.length; own++) {
        const event = side.events[side.next++] as SQSEvent;
        const context = createLambdaContext(
          identity,
          `bench/[$LATEST]throughput-${side.kind}-${index}`,
          Date.now() + timeoutMs,
        );
        const response = await container.handler(event, context);
        messages += event.Records.length;
        failures += response.batchItemFailures.length;
        batches += 1;
      }
    }),
  );
  if (!measured) return;
  side.wallMs += performance.now() - started;
  side.activeMs += performance.eventLoopUtilization(elu).active;
  side.messages += messages;
  side.batches += batches;
  side.itemFailures += failures;
};

export const runThroughput = async (
  settings: ThroughputSettings,
  progress: Progress,
  kinds: readonly ContainerKind[] = ['worker', 'baseline'],
): Promise<ThroughputResult> => {
  progress.step(`throughput (${kinds.join(' and ')}, alternating rounds)`);
  const random = seededRandom(settings.seed);
  const perSide = settings.maxBatches * settings.batchSize;
  const targets = Object.fromEntries(
    kinds.map((kind) => [kind, makeTargets(perSide, `throughput_${kind}`, random)]),
  ) as Record<ContainerKind, BenchTarget[]>;
  progress.status('starting the local stack');
  const host = await startStackHost({
    seed: settings.seed,
    datashares: seedOf(kinds.flatMap((kind) => targets[kind])),
  });
  const env = { ...host.env, ...settings.workerEnv };
  const restoreEnvironment = useEnvironment(env);
  const probe = createProbe();
  const issuedAt = new Date().toISOString();
  const sides: Side[] = await Promise.all(
    kinds.map(async (kind) => ({
      kind,
      containers: await Promise.all(
        Array.from({ length: settings.containers }, (_, index) =>
          createContainer(
            kind,
            index,
            kind === 'worker' ? { ...env, ...settings.workerConfiguration } : env,
            probe,
          ),
        ),
      ),
      events: Array.from({ length: settings.maxBatches }, (_, b) => ({
        Records: targets[kind]
          .slice(b * settings.batchSize, (b + 1) * settings.batchSize)
          .map((target, i) =>
            sqsRecord(
              requestBody(`throughput-${kind}/${b}/${i}`, target, issuedAt),
              host.queues.source.arn,
            ),
          ),
      })),
      next: 0,
      messages: 0,
      batches: 0,
      wallMs: 0,
      activeMs: 0,
      itemFailures: 0,
      calls: { redshift: 0, eventBridge: 0, dynamoDb: 0 },
    })),
  );
  /** A measured round, with the AWS calls it made (counted outside the timed part). */
  const measuredRound = async (side: Side, until: number) => {
    const before = await host.call('callCounts');
    const storeBefore = storeCallCount(probe);
    await runRound(side, () => performance.now() >= until, true, settings.functionTimeoutMs);
    const after = await host.call('callCounts');
    side.calls.redshift += after.redshift - before.redshift;
    side.calls.eventBridge += after.eventBridge - before.eventBridge;
    side.calls.dynamoDb += storeCallCount(probe) - storeBefore;
  };
  try {
    for (const side of sides)
      await runRound(
        side,
        (_, own) => own >= settings.warmupBatches,
        false,
        settings.functionTimeoutMs,
      );
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        await measuredRound(side, performance.now() + settings.roundMs);
      }
      progress.status(
        `round ${round + 1}/${settings.rounds}: ${sides
          .map((s) => `${s.kind} ${s.messages} messages in ${(s.wallMs / 1000).toFixed(1)} s`)
          .join(' · ')}`,
      );
    }
  } finally {
    for (const side of sides) for (const container of side.containers) container.close();
    restoreEnvironment();
    await host.stop();
  }
  const result: ThroughputResult = { settings };
  for (const side of sides) {
    result[side.kind] = {
      kind: side.kind,
      messages: side.messages,
      batches: side.batches,
      wallSeconds: round(side.wallMs / 1000, 2),
      activeSeconds: round(side.activeMs / 1000, 2),
      messagesPerCoreSecond: round(side.messages / (side.activeMs / 1000), 0),
      messagesPerSecond: round(side.messages / (side.wallMs / 1000), 0),
      eventLoopUtilization: round(side.activeMs / side.wallMs, 3),
      cpuMsPerMessage: round(side.activeMs / side.messages, 3),
      awsCallsPerMessage: {
        redshift: round(side.calls.redshift / side.messages, 2),
        eventBridge: round(side.calls.eventBridge / side.messages, 2),
        dynamoDb: round(side.calls.dynamoDb / side.messages, 2),
      },
      itemFailures: side.itemFailures,
    };
  }
  progress.done(
    sides
      .map(
        (s) =>
          `${s.kind} ${result[s.kind]?.messagesPerCoreSecond} msg/s per core (${result[s.kind]?.messagesPerSecond} msg/s wall)`,
      )
      .join(', '),
  );
  return result;
};
