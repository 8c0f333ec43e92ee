import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { AwsCallError, FailureKind } from '../src/core/errors.js';
import { createLogger } from '../src/observability/logger.js';
import { EmfMetrics } from '../src/observability/metrics.js';
import { createWorkerDependencies } from '../src/wiring.js';
import type {
  DataShareRevoker,
  IdempotencyStore,
  MetricName,
  Metrics,
} from '../src/worker/ports.js';
import { processBatch } from '../src/worker/process-batch.js';
import { type BaselineConsumerRole, createBaselineHandler } from './baseline/handler.js';

/** One Redshift attempt as a container saw it (epoch ms). */
export interface AttemptSpan {
  container: number;
  startedAt: number;
  endedAt: number;
  result: 'ok' | 'throttled' | 'failed';
}

/** One invocation of a container's handler (epoch ms). */
export interface InvocationSpan {
  container: number;
  startedAt: number;
  endedAt: number;
  records: number;
  itemFailures: number;
}

/** What the harness records about the containers of one run (not visible to them). */
export interface ContainerProbe {
  attempts: AttemptSpan[];
  invocations: InvocationSpan[];
  /** `Count` metrics each container emitted, summed per container. */
  metrics: Map<number, Partial<Record<MetricName, number>>>;
  /** Idempotency-store calls (one DynamoDB request each), by method, over all containers. */
  storeCalls: Map<string, number>;
  /**
   * How often each log message was written, over all containers (only when the probe was
   * created with `logCensus`: parsing every line costs the harness time).
   */
  logMessages?: Map<string, number>;
}

export const createProbe = (options: { logCensus?: boolean } = {}): ContainerProbe => ({
  attempts: [],
  invocations: [],
  metrics: new Map(),
  storeCalls: new Map(),
  ...(options.logCensus && { logMessages: new Map<string, number>() }),
});

/** A pino destination that counts messages by their `msg`. */
const censusDestination = (messages: Map<string, number>) => ({
  write: (line: string) => {
    try {
      const { msg, level } = JSON.parse(line) as { msg?: string; level?: string };
      const key = `${level ?? '?'}: ${msg ?? '(no msg)'}`;
      messages.set(key, (messages.get(key) ?? 0) + 1);
    } catch {
      messages.set('(not JSON)', (messages.get('(not JSON)') ?? 0) + 1);
    }
  },
});

export type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * One Lambda execution environment: its own module state (clients, connection pools, the worker's
 * RedshiftGate, the baseline's SDK retry quota). In AWS every concurrent invocation runs in its own
 * environment; locally each container gets its own instance and shares nothing with the others
 * but the AWS side (SQS, DynamoDB, Redshift, EventBridge).
 */
export interface Container {
  index: number;
  handler: BatchHandler;
  close(): void;
}

export const CONTAINER_KINDS = ['worker', 'baseline'] as const;
export type ContainerKind = (typeof CONTAINER_KINDS)[number];

const timed =
  (index: number, handler: BatchHandler, probe: ContainerProbe): BatchHandler =>
  async (event, context) => {
    const startedAt = Date.now();
    const response = await handler(event, context);
    probe.invocations.push({
      container: index,
      startedAt,
      endedAt: Date.now(),
      records: event.Records.length,
      itemFailures: response.batchItemFailures.length,
    });
    return response;
  };

/** The worker's Redshift port, recording each attempt and how it ended. */
const recordingRevoker = (
  inner: DataShareRevoker,
  container: number,
  probe: ContainerProbe,
): DataShareRevoker => ({
  describeAssociations: (target, options) => inner.describeAssociations(target, options),
  disassociate: async (target, options) => {
    const startedAt = Date.now();
    const record = (result: AttemptSpan['result']) =>
      probe.attempts.push({ container, startedAt, endedAt: Date.now(), result });
    try {
      const outcome = await inner.disassociate(target, options);
      record('ok');
      return outcome;
    } catch (error) {
      record(
        error instanceof AwsCallError && error.kind === FailureKind.Throttled
          ? 'throttled'
          : 'failed',
      );
      throw error;
    }
  },
});

/** The worker's idempotency store, counting calls by method. */
const countingStore = (inner: IdempotencyStore, probe: ContainerProbe): IdempotencyStore =>
  new Proxy(inner, {
    get: (target, property, receiver) => {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        probe.storeCalls.set(property, (probe.storeCalls.get(property) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });

/** The worker's metrics, still serialised as EMF (as in Lambda) but summed for the report. */
const countingMetrics = (inner: Metrics, container: number, probe: ContainerProbe): Metrics => {
  const counts: Partial<Record<MetricName, number>> = {};
  probe.metrics.set(container, counts);
  return {
    add: (name, value, unit) => {
      if (unit === undefined || unit === 'Count') counts[name] = (counts[name] ?? 0) + value;
      inner.add(name, value, unit);
    },
    flush: () => inner.flush(),
  };
};

/**
 * A container running the worker: `createWorkerDependencies(loadConfig(env))`, exactly what
 * `src/handler.ts` builds at module scope. Logs and EMF lines are produced as in Lambda, at the
 * configured level, and written to /dev/null (or counted) so that stdout stays the benchmark's.
 */
export const createWorkerContainer = async (
  index: number,
  env: Readonly<Record<string, string | undefined>>,
  probe: ContainerProbe,
): Promise<Container> => {
  const config = loadConfig(env);
  const sink = pino.destination({ dest: '/dev/null', sync: true });
  const logs = probe.logMessages ? censusDestination(probe.logMessages) : sink;
  const deps = await createWorkerDependencies(config, createLogger(config.logLevel, logs));
  // Instrumentation wraps the ports; the worker's own code is untouched. The EMF writer is the
  // one thing replaced: src/wiring.ts writes it to stdout, which here is the benchmark's table.
  deps.revoker = recordingRevoker(deps.revoker, index, probe);
  deps.store = countingStore(deps.store, probe);
  const emf = new EmfMetrics({
    namespace: 'DatashareRevoker',
    dimensions: { service: 'datashare-revoker' },
    write: (line) => sink.write(`${line}\n`),
  });
  deps.metrics = countingMetrics(emf, index, probe);
  return {
    index,
    handler: timed(index, (event, context) => processBatch(event, context, deps), probe),
    close: () => sink.end(),
  };
};

/**
 * A container running the baseline handler (its own SDK clients and retry quota), in hub mode when
 * the environment names a consumer role as the worker's does.
 */
export const createBaselineContainer = (
  index: number,
  probe: ContainerProbe,
  consumerRole?: BaselineConsumerRole,
): Container => {
  const baseline = createBaselineHandler(consumerRole);
  return {
    index,
    handler: timed(index, baseline.handler, probe),
    close: () => baseline.destroy(),
  };
};

export const createContainer = (
  kind: ContainerKind,
  index: number,
  env: Readonly<Record<string, string | undefined>>,
  probe: ContainerProbe,
): Promise<Container> =>
  kind === 'worker'
    ? createWorkerContainer(index, env, probe)
    : Promise.resolve(createBaselineContainer(index, probe, baselineRoleOf(env)));

/** The consumer role of the worker's environment, for the baseline (the worker reads it itself). */
const baselineRoleOf = (
  env: Readonly<Record<string, string | undefined>>,
): BaselineConsumerRole | undefined => {
  const { CONSUMER_ROLE_NAME: roleName, CONSUMER_ROLE_EXTERNAL_ID: externalId } = env;
  if (roleName === undefined) return undefined;
  return { roleName, ...(externalId !== undefined && { externalId }) };
};
