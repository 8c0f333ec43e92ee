/**
 * One conservation run, at any size: the workload streamed to the source queue while the real
 * handler drains it through the local event source mapping, under faults drawn from the seed on
 * every call the worker makes, then every request accounted for (`checks.ts`). Used by the
 * end-to-end test (small runs, several seeds) and by `npm run soak` (large ones).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { seededRandom, seedOf } from '../fixtures.js';
import {
  type AuditDetail,
  coldStartFromConfig,
  createLambdaService,
  type E2eStack,
  startE2eStack,
} from '../harness.js';
import {
  type AuditRecord,
  type CheckResult,
  checkConservation,
  type KnownWindowKind,
} from './checks.js';
import {
  type ConservationFaults,
  drawFaults,
  type EpisodeRecord,
  type StoreEpisodes,
  startStoreEpisodes,
} from './faults.js';
import { Ledger } from './ledger.js';
import { createWorkloadStream } from './workload.js';

export interface ConservationOptions {
  seed: number;
  /** At most this many messages are sent. */
  requests: number;
  /** Keep sending rounds until this many minutes have passed (or `requests` were sent). */
  minutes?: number;
  /**
   * Messages per round (default: all of them, before the first poll). The next round is sent once
   * fewer than this many messages wait in the queue, so the backlog stays bounded.
   */
  chunk?: number;
  /** Default: one datashare of 10 consumers per 70 requests, between 4 and 30 datashares. */
  datashares?: number;
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
  mapping: { batchSize: number; maximumConcurrency: number; functionTimeoutMs: number };
  episodes: Omit<StoreEpisodes, 'slowLatencyMs'>;
  /** Give up waiting for the queue to drain after this long once sending is done. */
  drainTimeoutMs: number;
  /** Called every `progressEveryMs` (default 5 s). */
  onProgress?: (progress: ConservationProgress) => void;
  progressEveryMs?: number;
}

export interface ConservationProgress {
  phase: 'sending' | 'draining';
  sent: number;
  audited: number;
  deadLetters: number;
  /** Visible + in flight + delayed in the source queue. */
  inFlight: number;
  elapsedMs: number;
}

export interface KnownWindowFigures {
  /** Second audit events and DLQ copies that a known window explains. */
  count: number;
  /** `count` ÷ decisions and malformed messages sent. */
  rate: number;
  byKind: Partial<Record<KnownWindowKind, number>>;
  /** The first 20, with their evidence. */
  examples: CheckResult['knownWindows'];
}

export interface ConservationReport {
  seed: number;
  verdict: 'PASS' | 'FAIL';
  durationMs: number;
  settings: {
    maxReceiveCount: number;
    visibilityTimeoutSeconds: number;
    mapping: ConservationOptions['mapping'];
    targets: number;
  };
  messages: {
    sent: number;
    decisions: number;
    resends: number;
    malformed: number;
    maxReceives: number;
    redelivered: number;
    /** Messages received `maxReceiveCount` times: rule 17's last receive. */
    reachedLastReceive: number;
    /** When the last audit event was accepted, after the start. */
    lastAuditAtMs: number;
  };
  outcomes: Record<string, number>;
  deadLetters: {
    total: number;
    byErrorCode: Record<string, number>;
    byOutcome: Record<string, number>;
    /** Decisions and malformed messages accounted for by their DLQ copy alone (rule 17). */
    standingUnaudited: number;
    /** Moved by SQS (no `revoker.*`) after an injected Lambda timeout at the last receive. */
    movedBySqsAfterTimeout: number;
  };
  auditedTwice: number;
  knownWindow: KnownWindowFigures;
  invocations: {
    batches: number;
    records: number;
    itemFailures: number;
    timeoutsInjected: number;
    coldStarts: number;
    deleteFailures: number;
  };
  faults: {
    drawn: ConservationFaults;
    storeEpisodes: readonly EpisodeRecord[];
    redshift: Record<string, number>;
    eventBridge: Record<string, number>;
    dynamoDb: Record<string, number>;
    dynamoDbLostAnswersByOperation: Record<string, number>;
    sqs: Record<string, number>;
    sqsLostAnswersByOperation: Record<string, number>;
  };
  redshift: {
    disassociateCalls: number;
    stateChanges: number;
    describeCalls: number;
    targetsCalledByConcurrentInvocations: number;
  };
  problems: string[];
}

const countBy = <T>(items: Iterable<T>, key: (item: T) => string): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
};

const lostAnswersByOperation = (stats: {
  byOperation: Record<string, { byKind: { lostAnswer: number } }>;
}): Record<string, number> =>
  Object.fromEntries(
    Object.entries(stats.byOperation)
      .map(([operation, counts]) => [operation, counts.byKind.lostAnswer] as const)
      .filter(([, n]) => n > 0),
  );

/**
 * Runs the workload under faults and returns the report; `verdict` is FAIL when any problem was
 * found (known windows do not fail a run). Everything it started is stopped before it returns.
 */
export const runConservation = async (
  options: ConservationOptions,
): Promise<ConservationReport> => {
  const { seed } = options;
  const startedAt = Date.now();
  const datashares =
    options.datashares ?? Math.min(30, Math.max(4, Math.ceil(options.requests / 70)));
  const workload = createWorkloadStream(
    {
      datashares,
      consumersPerDatashare: 10,
      dryRunTargets: 10,
      malformedShare: 0.05,
      duplicateShare: 0.15,
      dryRunShare: 0.01,
      issuedAt: new Date(startedAt - 10 * 60_000).toISOString(),
    },
    seededRandom(seed),
  );
  const faults = drawFaults(seededRandom(seed + 2), options.episodes);
  const e2e: E2eStack = await startE2eStack({
    datashares: seedOf([...workload.targets, ...workload.dryRunTargets]),
    maxReceiveCount: options.maxReceiveCount,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    seed,
    redshiftFaults: faults.redshift,
    eventBridgeFaults: faults.eventBridge,
    dynamoDbFaults: faults.dynamoDb,
    sqsFaults: faults.sqs,
    workerEnv: {
      REDSHIFT_REQUEST_TIMEOUT_MS: '1000',
      // Retries come back after 3-6 s rather than 15-30 s: the same rule, in test time.
      RETRY_BACKOFF_BASE_SECONDS: '6',
      DEADLINE_RESERVE_MS: '2000',
      QUEUE_VISIBILITY_TIMEOUT_SECONDS: String(options.visibilityTimeoutSeconds),
      // The breaker on (as issue 12 runs the worker), far from opening: its record's writes meet
      // the same DynamoDB faults, lost answers included.
      BREAKER_MAX_REVOCATIONS: '5000',
      BREAKER_WINDOW_SECONDS: '2',
    },
  });
  try {
    const fates = seededRandom(seed + 1);
    // Messages whose last receive ended in an injected timeout: Lambda gave the worker no chance
    // to answer, so SQS moves them itself (rule 17's "no time left").
    const timedOutAtLastReceive = new Set<string>();
    const service = createLambdaService({
      coldStart: coldStartFromConfig(e2e.env),
      fate: (_invocation, event) => {
        if (fates() >= faults.handlerTimeoutRate) return 'return';
        for (const record of event.Records)
          if (Number(record.attributes.ApproximateReceiveCount) >= options.maxReceiveCount)
            timedOutAtLastReceive.add(record.messageId);
        return 'timeout';
      },
    });
    const ledger = new Ledger();
    const chunk = Math.min(options.chunk ?? options.requests, options.requests);
    const sendUntil =
      options.minutes === undefined
        ? Number.POSITIVE_INFINITY
        : startedAt + options.minutes * 60_000;
    const sendRound = async () => {
      const messages = workload.take(Math.min(chunk, options.requests - ledger.sent));
      const sent = await e2e.send(messages.map((m) => m.body));
      for (const [i, message] of messages.entries())
        ledger.record(message, sent[i]?.messageId ?? '');
    };

    // Progress, from outside: what was sent, audited, dead-lettered and is still in the queue.
    let phase: ConservationProgress['phase'] = 'sending';
    let reporting = false;
    const report = async () => {
      if (!options.onProgress || reporting) return;
      reporting = true;
      try {
        const depth = await e2e.depth('source');
        options.onProgress({
          phase,
          sent: ledger.sent,
          audited: e2e.stack.eventBridge.stats().acceptedEntries,
          deadLetters: (await e2e.deadLetters()).length,
          inFlight: depth.visible + depth.inFlight + depth.delayed,
          elapsedMs: Date.now() - startedAt,
        });
      } catch {
        // A progress line is not worth failing the run for.
      } finally {
        reporting = false;
      }
    };
    const ticker = setInterval(() => void report(), options.progressEveryMs ?? 5000);

    // The first round waits in the queue before the first poll, as a burst would.
    await sendRound();
    const worker = await e2e.startWorker(service.handler, {
      ...options.mapping,
      poller: 'proxied',
    });
    const episodes = startStoreEpisodes(
      e2e.stack.dynamoDbProxy as NonNullable<typeof e2e.stack.dynamoDbProxy>,
      faults.dynamoDb,
      faults.episodes,
      seededRandom(seed + 3),
    );
    let drained = true;
    try {
      while (ledger.sent < options.requests && Date.now() < sendUntil) {
        const depth = await e2e.depth('source');
        if (depth.visible >= chunk) {
          await delay(250);
          continue;
        }
        await sendRound();
      }
      phase = 'draining';
      // Unbounded episodes (a soak) end with the sending; a bounded few play out while it drains.
      if (options.episodes.max === undefined) await episodes.stop();
      await worker.drain({ idleTimeoutMs: options.drainTimeoutMs }).catch(() => {
        drained = false;
      });
    } finally {
      clearInterval(ticker);
      await episodes.stop();
      await worker.stop();
      await service.settled();
    }

    // Evidence
    const bus = e2e.stack.auditEventBus.name;
    const audit: AuditRecord[] = e2e.stack.eventBridge.eventsOn(bus).map((event) => ({
      detail: event.detail as unknown as AuditDetail,
      lostAnswer: event.lostAnswer === true,
      clientAborted: event.clientAborted === true,
      acceptedAt: Date.parse(event.time),
    }));
    const letters = await e2e.deadLetters();
    const sqsStats = e2e.stack.sqsProxy.stats();
    const dynamoProxy = e2e.stack.dynamoDbProxy;
    const dynamoStats = dynamoProxy?.stats();
    const result = checkConservation({
      ledger,
      targets: workload.targets,
      dryRunTargets: workload.dryRunTargets,
      audit,
      letters,
      sourceDepth: await e2e.depth('source'),
      redshift: e2e.stack.redshift,
      storeInjections: dynamoProxy?.injections() ?? [],
      lostDeadLetterAnswersAt: e2e.stack.sqsProxy
        .injections()
        .filter((i) => i.operation === 'SendMessageBatch' && i.kind === 'lostAnswer')
        .map((i) => i.at),
      maxReceiveCount: options.maxReceiveCount,
      timedOutAtLastReceive,
    });
    if (!drained)
      result.problems.unshift(
        `the queue did not drain within ${options.drainTimeoutMs} ms after the last message was sent`,
      );

    const receives = new Map<string, number>();
    for (const batch of worker.reports)
      for (const id of batch.messageIds) receives.set(id, (receives.get(id) ?? 0) + 1);
    const stats = worker.reports;
    const redshiftStats = e2e.stack.redshift.stats();
    const disassociate = redshiftStats.byOperation.DisassociateDataShareConsumer;
    const eventBridge = e2e.stack.eventBridge.stats();
    const knownCount = result.knownWindows.length;
    const subjects = ledger.decisions.size + ledger.malformed;
    return {
      seed,
      verdict: result.problems.length === 0 ? 'PASS' : 'FAIL',
      durationMs: Date.now() - startedAt,
      settings: {
        maxReceiveCount: options.maxReceiveCount,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
        mapping: options.mapping,
        targets: workload.targets.length,
      },
      messages: {
        sent: ledger.sent,
        decisions: ledger.decisions.size,
        resends: ledger.resends,
        malformed: ledger.malformed,
        maxReceives: Math.max(0, ...receives.values()),
        redelivered: [...receives.values()].filter((n) => n > 1).length,
        reachedLastReceive: [...receives.values()].filter((n) => n >= options.maxReceiveCount)
          .length,
        lastAuditAtMs: Math.max(0, ...audit.map((r) => r.acceptedAt - startedAt)),
      },
      outcomes: result.outcomes,
      deadLetters: {
        total: letters.length,
        byErrorCode: countBy(letters, (d) => d.revoker?.errorCode ?? '(no revoker.*)'),
        byOutcome: countBy(letters, (d) => d.revoker?.outcome ?? '(no revoker.*)'),
        standingUnaudited: result.deadLetteredUnaudited,
        movedBySqsAfterTimeout: result.movedBySqsAfterTimeout,
      },
      auditedTwice: result.auditedTwice,
      knownWindow: {
        count: knownCount,
        rate: subjects === 0 ? 0 : knownCount / subjects,
        byKind: countBy(result.knownWindows, (w) => w.kind),
        examples: result.knownWindows.slice(0, 20),
      },
      invocations: {
        batches: stats.length,
        records: stats.reduce((sum, r) => sum + r.messageIds.length, 0),
        itemFailures: stats.reduce(
          (sum, r) => sum + (r.outcome === 'partially-failed' ? r.failedMessageIds.length : 0),
          0,
        ),
        timeoutsInjected: service.counts.timeouts,
        coldStarts: service.counts.coldStarts,
        deleteFailures: stats.reduce((sum, r) => sum + r.deleteFailures.length, 0),
      },
      faults: {
        drawn: faults,
        storeEpisodes: episodes.episodes,
        redshift: {
          throttled: redshiftStats.all.throttled,
          error5xx: redshiftStats.all.error,
          hang: redshiftStats.all.hang,
          reset: redshiftStats.all.reset,
          lostAnswer: redshiftStats.all.lostAnswer,
        },
        eventBridge: {
          calls: eventBridge.calls,
          failedEntriesInjected: eventBridge.injectedEntryFailures,
          callFailuresInjected: eventBridge.injectedCallFailures,
          lostAnswers: eventBridge.lostAnswers,
          eventsInAbortedCalls: audit.filter((r) => r.clientAborted).length,
        },
        dynamoDb: dynamoStats ? { calls: dynamoStats.all.calls, ...dynamoStats.all.byKind } : {},
        dynamoDbLostAnswersByOperation: dynamoStats ? lostAnswersByOperation(dynamoStats) : {},
        sqs: { calls: sqsStats.all.calls, ...sqsStats.all.byKind },
        sqsLostAnswersByOperation: lostAnswersByOperation(sqsStats),
      },
      redshift: {
        disassociateCalls: disassociate?.total ?? 0,
        stateChanges: disassociate?.applied ?? 0,
        describeCalls: redshiftStats.byOperation.DescribeDataShares?.total ?? 0,
        targetsCalledByConcurrentInvocations: result.targetsCalledByConcurrentInvocations,
      },
      problems: result.problems,
    };
  } finally {
    await e2e.stop();
  }
};
