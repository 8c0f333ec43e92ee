/**
 * Storm: a compliance rule fires and a backlog of revocations arrives at once — many requests
 * for a few hundred targets, duplicates included — while the Redshift control plane throttles.
 * Measured end to end through SQS, the event source mapping and the handler, on the local stack.
 */
import { performance } from 'node:perf_hooks';
import {
  createEventSourceMapping,
  type EventSourceMapping,
} from '../../src/local/event-source-mapping.js';
import {
  type CallCounts,
  emptyCounts,
  type RecordedCall,
} from '../../src/local/redshift-emulator/index.js';
import {
  type ContainerKind,
  type ContainerProbe,
  createContainer,
  createProbe,
} from '../containers.js';
import type { Progress } from '../progress.js';
import { isEmpty, queueDepth, sendAll, sqsClientFor, useEnvironment } from '../queue.js';
import {
  type AuditRecord,
  type StackHost,
  type StackHostOptions,
  startStackHost,
} from '../stack-host/index.js';
import { median, round } from '../statistics.js';
import { makeStormPlan, type StormPlan, seedOf } from '../workload.js';

/** What every storm is made of, whatever its Redshift rate limits. */
export interface StormShapeSettings {
  requests: number;
  targets: number;
  uniqueEventIds: number;
  seed: number;
  /** The Redshift emulator's token bucket size: calls admitted at once after a quiet spell. */
  burst: number;
  latencyMs: number;
  /** Concurrent invocations (`MaximumConcurrency`), each in its own container. */
  containers: number;
  batchSize: number;
  functionTimeoutMs: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  /** Every request's `issuedAt` is this long before the storm starts. */
  issuedBeforeStartMs: number;
  /** A side that has not drained after this long is stopped and reported as not drained. */
  drainTimeoutMs: number;
  /** Environment on top of the local stack's, for both sides (`--worker-env`; a hub's role). */
  workerEnv: Record<string, string>;
  /**
   * The worker's own configuration (the baseline never sees it): hub mode and the guardrails
   * (`GUARDED_WORKER`), or nothing with `--defaults`.
   */
  workerConfiguration: Readonly<Record<string, string>>;
  /**
   * Emulators, event source mappings and containers on one thread (`--single-thread`): the
   * worker's own CPU cost then competes with the AWS side, as on a slower machine.
   */
  singleThread?: boolean;
}

export interface StormSettings extends StormShapeSettings {
  /** The Redshift emulator's token bucket: R calls per second over all operations. */
  rateLimitRps: number;
}

/** Where a storm runs: whose consumers, which stack, what floor, and what else to read back. */
export interface StormLayout<Extra> {
  /** Goes into the datashare names. */
  label: string;
  /** The consumers' accounts (default: the worker's own). */
  consumerAccounts?: readonly string[];
  /** Stack options beyond the datashares and the queues (e.g. the accounts and rate limits). */
  host: Omit<StackHostOptions, 'datashares'>;
  /** Drain-time floor (s) the drain ratio is measured against. */
  floorSeconds: number;
  /** Read from the stack once the storm is over, before it stops. */
  collect: (host: StackHost) => Promise<Extra>;
}

/** The raw record of one side's storm, for figures a scenario computes beyond the common ones. */
export interface StormTrace<Extra> {
  plan: StormPlan;
  startedAt: number;
  /** Redshift calls from the start on. */
  calls: RecordedCall[];
  events: AuditRecord[];
  extra: Extra;
}

export interface StormContainerFigures {
  container: number;
  invocations: number;
  /** Share of the drain time this container spent inside its handler. */
  busyShare: number;
  /** Redshift attempts it made (worker only: read at its Redshift port). */
  attempts?: { total: number; ok: number; throttled: number; failed: number };
  /** The worker's own `Count` metrics. */
  metrics?: Record<string, number>;
}

export interface StormSecond {
  second: number;
  disassociateOk: number;
  disassociateThrottled: number;
  otherCalls: number;
  /** Containers (0-based) that started at least one Redshift attempt in this second (worker only). */
  containersCalling?: number;
}

export interface StormSideResult {
  kind: ContainerKind;
  drained: boolean;
  /** First send → queue empty and the last batch's deletes done; null when not drained. */
  drainSeconds: number | null;
  /** First send → last send: how long the storm took to arrive. */
  sentSeconds: number;
  /** First send → every eventId's first audit event (null if some never got one). */
  allAuditedSeconds: number | null;
  /** How long it ran when it did not drain. */
  stoppedAfterSeconds: number | null;
  drainRatio: number | null;
  /** C: DisassociateDataShareConsumer calls, throttled ones included. */
  disassociateCalls: CallCounts;
  amplification: number;
  throttledCalls: number;
  /** Other Redshift calls (e.g. DescribeDataShares confirming "already gone"), by operation. */
  otherRedshiftCalls: Record<string, number>;
  /**
   * Disassociate calls for a target that a successful call had already revoked (answered "not
   * associated"), and how long after that success they arrived: a short gap means two containers
   * called at once, a long one that a container did not know of the other's confirmation.
   */
  repeatCalls: { count: number; medianGapMs: number | null; maxGapMs: number | null };
  audit: {
    events: number;
    expectedEventIds: number;
    auditedEventIds: number;
    missingEventIds: number;
    /** Events beyond the first for the same eventId. */
    duplicateEvents: number;
    exactlyOnce: boolean;
    outcomes: Record<string, number>;
  };
  queue: {
    /** Records handed to handlers, redeliveries included. */
    deliveries: number;
    redeliveries: number;
    itemFailures: number;
    wholeBatchFailures: number;
    deadLettered: number;
    leftInQueue: number;
  };
  targetsStillAssociated: number;
  containers: StormContainerFigures[];
  /** Worker log lines by level and message, over all containers (why messages came back). */
  logMessages?: Record<string, number>;
  timeline: StormSecond[];
  eventLoop: { mainUtilization: number; hostUtilization: number };
  /**
   * CPU over the storm (first send → drained), per message delivered: the whole process (both
   * threads, or the one thread with `singleThread`), and the main thread's event-loop active time
   * (containers, event source mappings and harness; emulators too with `singleThread`).
   */
  cpu: { processMsPerMessage: number; mainActiveMsPerMessage: number; singleThread: boolean };
  /**
   * Idempotency-store requests (worker only), counted at the port (one call, one DynamoDB
   * request: a batch read or write is one), per message delivered, and by method.
   */
  storeRequests?: {
    perMessage: number;
    byMethod: Record<string, number>;
    /** DynamoDB requests the emulator received during the storm, per message and by operation. */
    dynamoDbPerMessage: number;
    dynamoDbByOperation: Record<string, number>;
  };
}

export interface StormResult {
  settings: StormSettings;
  floorSeconds: number;
  worker?: StormSideResult;
  baseline?: StormSideResult;
}

const DISASSOCIATE = 'DisassociateDataShareConsumer';
const SEND_CONCURRENCY = 4;
const IDLE_POLL_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const repeatCallsOf = (calls: readonly RecordedCall[]): StormSideResult['repeatCalls'] => {
  const revokedAt = new Map<string, number>();
  const gaps: number[] = [];
  for (const call of calls) {
    if (call.operation !== DISASSOCIATE || call.targetKey === undefined) continue;
    const first = revokedAt.get(call.targetKey);
    if (first !== undefined && call.outcome !== 'throttled') gaps.push(call.at - first);
    else if (call.outcome === 'ok') revokedAt.set(call.targetKey, call.at);
  }
  return {
    count: gaps.length,
    medianGapMs: gaps.length > 0 ? round(median(gaps), 0) : null,
    maxGapMs: gaps.length > 0 ? Math.max(...gaps) : null,
  };
};

const auditFigures = (
  plan: StormPlan,
  events: { eventId: string | null; outcome: string | null }[],
) => {
  const perEventId = new Map<string, number>();
  const outcomes: Record<string, number> = {};
  for (const event of events) {
    if (event.eventId !== null)
      perEventId.set(event.eventId, (perEventId.get(event.eventId) ?? 0) + 1);
    const outcome = event.outcome ?? 'unknown';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  const expected = new Set(plan.eventIds);
  const audited = plan.eventIds.filter((id) => perEventId.has(id)).length;
  const duplicateEvents = [...perEventId.values()].reduce((sum, n) => sum + n - 1, 0);
  const strangers = [...perEventId.keys()].filter((id) => !expected.has(id)).length;
  return {
    events: events.length,
    expectedEventIds: expected.size,
    auditedEventIds: audited,
    missingEventIds: expected.size - audited,
    duplicateEvents,
    exactlyOnce:
      audited === expected.size &&
      duplicateEvents === 0 &&
      strangers === 0 &&
      events.length === expected.size,
    outcomes,
  };
};

const timelineOf = (
  calls: readonly RecordedCall[],
  probe: ContainerProbe,
  startedAt: number,
  kind: ContainerKind,
): StormSecond[] => {
  const seconds: StormSecond[] = [];
  const at = (epochMs: number): StormSecond => {
    const second = Math.max(0, Math.floor((epochMs - startedAt) / 1000));
    for (let s = seconds.length; s <= second; s++)
      seconds.push({
        second: s,
        disassociateOk: 0,
        disassociateThrottled: 0,
        otherCalls: 0,
        ...(kind === 'worker' && { containersCalling: 0 }),
      });
    return seconds[second] as StormSecond;
  };
  for (const call of calls) {
    const bucket = at(call.at);
    if (call.operation !== DISASSOCIATE) bucket.otherCalls += 1;
    else if (call.outcome === 'throttled') bucket.disassociateThrottled += 1;
    else bucket.disassociateOk += 1;
  }
  if (kind === 'worker') {
    const calling = new Map<number, Set<number>>();
    for (const attempt of probe.attempts) {
      const bucket = at(attempt.startedAt);
      const set = calling.get(bucket.second) ?? new Set<number>();
      set.add(attempt.container);
      calling.set(bucket.second, set);
    }
    for (const bucket of seconds) bucket.containersCalling = calling.get(bucket.second)?.size ?? 0;
  }
  return seconds;
};

const containerFigures = (
  probe: ContainerProbe,
  count: number,
  spanMs: number,
  kind: ContainerKind,
): StormContainerFigures[] =>
  Array.from({ length: count }, (_, container) => {
    const invocations = probe.invocations.filter((i) => i.container === container);
    const busyMs = invocations.reduce((sum, i) => sum + (i.endedAt - i.startedAt), 0);
    const figures: StormContainerFigures = {
      container,
      invocations: invocations.length,
      busyShare: round(spanMs > 0 ? busyMs / spanMs : 0, 3),
    };
    if (kind === 'worker') {
      const attempts = probe.attempts.filter((a) => a.container === container);
      figures.attempts = {
        total: attempts.length,
        ok: attempts.filter((a) => a.result === 'ok').length,
        throttled: attempts.filter((a) => a.result === 'throttled').length,
        failed: attempts.filter((a) => a.result === 'failed').length,
      };
      figures.metrics = { ...probe.metrics.get(container) } as Record<string, number>;
    }
    return figures;
  });

/**
 * Runs one side of the storm on a fresh local stack: `settings.containers` event source mappings
 * of `MaximumConcurrency` 1, each invoking its own container, all on one queue.
 */
export const runStormSide = async (
  kind: ContainerKind,
  settings: StormSettings,
  progress: Progress,
): Promise<StormSideResult> =>
  (
    await runStormSideOn(kind, settings, progress, {
      label: 'storm',
      host: {
        redshiftFaults: {
          throttleRps: settings.rateLimitRps,
          burst: settings.burst,
          latencyMs: settings.latencyMs,
        },
      },
      floorSeconds: settings.targets / settings.rateLimitRps,
      collect: async () => undefined,
    })
  ).side;

/** One side of a storm laid out as `layout` says; its figures and its raw trace. */
export const runStormSideOn = async <Extra>(
  kind: ContainerKind,
  settings: StormShapeSettings,
  progress: Progress,
  layout: StormLayout<Extra>,
): Promise<{ side: StormSideResult; trace: StormTrace<Extra> }> => {
  const shape = {
    requests: settings.requests,
    targets: settings.targets,
    uniqueEventIds: settings.uniqueEventIds,
    seed: settings.seed,
    ...(layout.consumerAccounts && { consumerAccounts: layout.consumerAccounts }),
  };
  // The same seed draws the same targets: seed the emulator with them now, and draw the messages
  // (whose issuedAt depends on the start) once everything is up.
  const { targets } = makeStormPlan(shape, new Date(), layout.label);
  progress.status('starting the local stack');
  const host = await startStackHost(
    {
      ...layout.host,
      seed: settings.seed,
      datashares: seedOf(targets),
      visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
      maxReceiveCount: settings.maxReceiveCount,
    },
    { sameThread: settings.singleThread === true },
  );
  const env = {
    ...host.env,
    ...settings.workerEnv,
    ...(kind === 'worker' ? settings.workerConfiguration : {}),
  };
  const restoreEnvironment = useEnvironment(env);
  const sqs = sqsClientFor(host);
  const probe = createProbe({ logCensus: kind === 'worker' });
  const containers = await Promise.all(
    Array.from({ length: settings.containers }, (_, index) =>
      createContainer(kind, index, env, probe),
    ),
  );
  let lastBatchAt = 0;
  const mappingClients = containers.map(() => sqsClientFor(host));
  const mappings: EventSourceMapping[] = containers.map((container, index) =>
    createEventSourceMapping({
      sqs: mappingClients[index] as ReturnType<typeof sqsClientFor>,
      queueUrl: host.queues.source.url,
      queueArn: host.queues.source.arn,
      accountId: host.accountId,
      handler: container.handler,
      batchSize: settings.batchSize,
      maximumConcurrency: 1,
      functionTimeoutMs: settings.functionTimeoutMs,
      functionName: 'datashare-revoker-bench',
      memoryLimitInMB: 512,
      onBatch: () => {
        lastBatchAt = Date.now();
      },
    }),
  );

  try {
    await Promise.all(mappings.map((m) => m.start()));
    const plan = makeStormPlan(
      shape,
      new Date(Date.now() - settings.issuedBeforeStartMs),
      layout.label,
    );

    const mainElu = performance.eventLoopUtilization();
    const hostElu = host.eventLoopUtilization();
    const cpuAtStart = process.cpuUsage();
    const dynamoAtStart = await host.call('dynamoDbRequests');
    const startedAt = Date.now();
    let sent = 0;
    let sending = true;
    let sentAt = startedAt;
    const sendDone = sendAll(
      sqs,
      host.queues.source.url,
      plan.messages.map((m) => m.body),
      { concurrency: SEND_CONCURRENCY, onSent: (n) => (sent += n) },
    ).finally(() => {
      sending = false;
      sentAt = Date.now();
    });

    let drained = false;
    let idleChecks = 0;
    let lastStatus = 0;
    const giveUpAt = startedAt + settings.drainTimeoutMs;
    while (Date.now() < giveUpAt) {
      await sleep(IDLE_POLL_MS);
      const inFlight = mappings.reduce((sum, m) => sum + m.stats.inFlightBatches, 0);
      const idle =
        !sending && inFlight === 0 && isEmpty(await queueDepth(sqs, host.queues.source.url));
      idleChecks = idle ? idleChecks + 1 : 0;
      // Twice in a row: a receive in transit shows as in flight on the next look.
      if (idleChecks >= 2) {
        drained = true;
        break;
      }
      if (Date.now() - lastStatus >= 1000) {
        lastStatus = Date.now();
        const [stats, audited] = await Promise.all([
          host.call('redshiftStats'),
          host.call('auditEventCount'),
        ]);
        const calls = stats.byOperation[DISASSOCIATE] ?? emptyCounts();
        const deleted = mappings.reduce((sum, m) => sum + m.stats.messagesDeleted, 0);
        progress.status(
          `${((Date.now() - startedAt) / 1000).toFixed(0)} s · sent ${sent}/${plan.messages.length} · deleted ${deleted} · audited ${audited}/${plan.eventIds.length} · disassociate calls ${calls.total} (throttled ${calls.throttled})`,
        );
      }
    }
    await sendDone;
    const endedAt = Date.now();
    const cpuUsed = process.cpuUsage(cpuAtStart);
    const mainActiveMs = performance.eventLoopUtilization(mainElu).active;
    const mainUtilization = performance.eventLoopUtilization(mainElu).utilization;
    const hostUtilization = host.eventLoopUtilization(hostElu).utilization;
    progress.status('stopping the event source mappings');
    await Promise.all(mappings.map((m) => m.stop()));

    const dynamoAtEnd = await host.call('dynamoDbRequests');
    const dynamoDbByOperation = Object.fromEntries(
      Object.entries(dynamoAtEnd)
        .map(([operation, n]) => [operation, n - (dynamoAtStart[operation] ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1]),
    );
    const [calls, events, stillAssociated, deadLetter, left, extra] = await Promise.all([
      host.call('redshiftCalls'),
      host.call('auditEvents'),
      host.call('associatedCount', plan.targets),
      queueDepth(sqs, host.queues.deadLetter.url),
      queueDepth(sqs, host.queues.source.url),
      layout.collect(host),
    ]);
    const stormCalls = calls.filter((c) => c.at >= startedAt);
    const disassociate = emptyCounts();
    const otherRedshiftCalls: Record<string, number> = {};
    for (const call of stormCalls) {
      if (call.operation === DISASSOCIATE) {
        disassociate.total += 1;
        disassociate[call.outcome] += 1;
        if (call.injected) disassociate.injected += 1;
      } else {
        otherRedshiftCalls[call.operation] = (otherRedshiftCalls[call.operation] ?? 0) + 1;
      }
    }
    const firstAudit = new Map<string, number>();
    for (const event of events)
      if (event.eventId !== null && !firstAudit.has(event.eventId))
        firstAudit.set(event.eventId, event.at);
    const allAuditedAt = plan.eventIds.every((id) => firstAudit.has(id))
      ? Math.max(...firstAudit.values())
      : null;
    const drainMs = drained ? Math.max(lastBatchAt, startedAt) - startedAt : null;
    const stats = mappings.map((m) => m.stats);
    const deliveries = stats.reduce((sum, s) => sum + s.recordsInvoked, 0);
    const { floorSeconds } = layout;
    const side: StormSideResult = {
      kind,
      drained,
      drainSeconds: drainMs === null ? null : round(drainMs / 1000, 2),
      stoppedAfterSeconds: drained ? null : round((endedAt - startedAt) / 1000, 1),
      drainRatio: drainMs === null ? null : round(drainMs / 1000 / floorSeconds, 3),
      sentSeconds: round((sentAt - startedAt) / 1000, 2),
      allAuditedSeconds:
        allAuditedAt === null ? null : round(Math.max(0, allAuditedAt - startedAt) / 1000, 2),
      disassociateCalls: disassociate,
      amplification: round(disassociate.total / settings.targets, 3),
      throttledCalls: disassociate.throttled,
      otherRedshiftCalls,
      repeatCalls: repeatCallsOf(stormCalls),
      audit: auditFigures(plan, events),
      queue: {
        deliveries,
        redeliveries: deliveries - plan.messages.length,
        itemFailures: stats.reduce((sum, s) => sum + s.itemFailuresReported, 0),
        wholeBatchFailures: stats.reduce(
          (sum, s) => sum + Object.values(s.batchFailures).reduce((a, b) => a + b, 0),
          0,
        ),
        deadLettered: deadLetter.visible + deadLetter.inFlight + deadLetter.delayed,
        leftInQueue: left.visible + left.inFlight + left.delayed,
      },
      targetsStillAssociated: stillAssociated,
      containers: containerFigures(
        probe,
        settings.containers,
        drainMs ?? endedAt - startedAt,
        kind,
      ),
      timeline: timelineOf(stormCalls, probe, startedAt, kind),
      ...(probe.logMessages && {
        logMessages: Object.fromEntries([...probe.logMessages].sort((a, b) => b[1] - a[1])),
      }),
      eventLoop: {
        mainUtilization: round(mainUtilization, 3),
        hostUtilization: round(hostUtilization, 3),
      },
      cpu: {
        processMsPerMessage: round(
          (cpuUsed.user + cpuUsed.system) / 1000 / Math.max(1, deliveries),
          3,
        ),
        mainActiveMsPerMessage: round(mainActiveMs / Math.max(1, deliveries), 3),
        singleThread: settings.singleThread === true,
      },
      ...(kind === 'worker' && {
        storeRequests: {
          perMessage: round(
            [...probe.storeCalls.values()].reduce((sum, n) => sum + n, 0) / Math.max(1, deliveries),
            3,
          ),
          byMethod: Object.fromEntries([...probe.storeCalls].sort((a, b) => b[1] - a[1])),
          dynamoDbPerMessage: round(
            Object.values(dynamoDbByOperation).reduce((sum, n) => sum + n, 0) /
              Math.max(1, deliveries),
            3,
          ),
          dynamoDbByOperation,
        },
      }),
    };
    return { side, trace: { plan, startedAt, calls: stormCalls, events, extra } };
  } finally {
    await Promise.all(mappings.map((m) => m.stop().catch(() => undefined)));
    for (const container of containers) container.close();
    for (const client of [sqs, ...mappingClients]) client.destroy();
    restoreEnvironment();
    await host.stop();
  }
};

/** Both sides, one after the other, each on its own fresh stack. */
export const runStorm = async (
  settings: StormSettings,
  progress: Progress,
  sides: readonly ContainerKind[] = ['worker', 'baseline'],
): Promise<StormResult> => {
  const result: StormResult = {
    settings,
    floorSeconds: round(settings.targets / settings.rateLimitRps, 3),
  };
  for (const kind of sides) {
    progress.step(`storm / ${kind}`);
    const side = await runStormSide(kind, settings, progress);
    result[kind] = side;
    progress.done(
      side.drained
        ? `drained in ${side.drainSeconds} s (T/T0 ${side.drainRatio}), ${side.disassociateCalls.total} disassociate calls (${side.throttledCalls} throttled), ${side.audit.events} audit events for ${side.audit.expectedEventIds} eventIds`
        : `NOT drained after ${side.stoppedAfterSeconds} s: ${side.queue.leftInQueue} messages left, ${side.audit.auditedEventIds}/${side.audit.expectedEventIds} eventIds audited`,
    );
  }
  return result;
};
