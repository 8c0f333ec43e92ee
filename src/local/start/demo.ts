import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import {
  createEventSourceMapping,
  type EventSourceMapping,
  WaitForIdleTimeoutError,
} from '../event-source-mapping.js';
import {
  type ParsedSeedFile,
  parseSeedFile,
  type RedshiftEmulator,
} from '../redshift-emulator/index.js';
import { directSqsClientFor, type LocalStack, startLocalStack } from '../stack.js';
import { type AccountScopeFacts, DEMO_HUB, hubWorkerEnv } from './accounts.js';
import { readDeadLetterQueue } from './dead-letter.js';
import { demoFaultsFor, redshiftFaultsFor } from './demo-faults.js';
import { InputFileError } from './errors.js';
import { type EventLine, readEventsFile, wavesOf } from './events-file.js';
import { DEFAULT_FILES, type LocalDemoOptions } from './options.js';
import {
  barProgress,
  lineProgress,
  type ProgressReporter,
  type ProgressSnapshot,
} from './progress.js';
import {
  type AssociationRow,
  buildSummary,
  type LocalDemoSummary,
  type RunFacts,
} from './summary.js';
import { loadWorkerHandler } from './worker.js';
import { routeWorkerStdout, type WorkerStdout } from './worker-output.js';

/** Where the run writes while it works; the summary is the caller's to print. */
export interface DemoOutput {
  /** Progress, and the worker's logs (see `worker-output.ts`). */
  stderr: (text: string) => void;
  /** A terminal: draw a progress bar in place instead of a line a second. */
  interactive?: { stream: NodeJS.WritableStream };
}

/** A run whose queue is drained, with its stack and worker still up. */
export interface RunningLocalDemo {
  summary: LocalDemoSummary;
  stack: LocalStack;
  mapping: EventSourceMapping;
  /** The client the run used, straight to fauxqs (built with `directSqsClientFor`). */
  sqs: SQSClient;
  /** Stops the worker, then the stack; nothing is left holding the event loop. */
  stop(): Promise<void>;
}

/** The mapping as the brief and a small Lambda deployment would run it. */
const MAPPING = { batchSize: 10, maximumConcurrency: 2, functionTimeoutMs: 30_000 } as const;

/**
 * The source queue's visibility timeout: Lambda requires it ≥ the function timeout. AWS advises
 * 6 × (against Lambda's own retries of throttled invocations, which the local mapping does not
 * make); equal to it, a message that comes back without a new timeout (in progress elsewhere,
 * rule 3) returns after 30 s rather than 3 min, within the drain timeout.
 */
const VISIBILITY_TIMEOUT_SECONDS = MAPPING.functionTimeoutMs / 1000;

/** Queue drained means: nothing visible, in flight or delayed, and no batch running, this long. */
const IDLE_QUIET_MS = 200;

const loadSeed = async (path: string): Promise<ParsedSeedFile> => {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new InputFileError(
      path,
      `cannot read the datashares seed (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
  try {
    return parseSeedFile(json, 'seed');
  } catch (error) {
    throw new InputFileError(path, (error as Error).message, { cause: error });
  }
};

const associationRows = (redshift: RedshiftEmulator): AssociationRow[] =>
  redshift.datashares().flatMap((share) =>
    share.associations.map((association) => ({
      dataShareArn: share.dataShareArn,
      consumerIdentifier: association.consumerIdentifier,
      consumerRegion: association.consumerRegion ?? null,
      status: association.status,
    })),
  );

/** The emulator's consumer key of an audit detail's `consumer`, or undefined for none. */
const consumerKeyOfDetail = (consumer: unknown, accountId: unknown): string | undefined => {
  if (typeof consumer !== 'object' || consumer === null) return undefined;
  const c = consumer as { arn?: unknown; region?: unknown; entireAccount?: unknown };
  if (typeof c.arn === 'string') return c.arn;
  if (typeof c.region === 'string') return `region:${c.region}`;
  if (c.entireAccount === true && typeof accountId === 'string') return `account:${accountId}`;
  return undefined;
};

/** Sends one wave in file order, 10 a call; returns the message id of each line. */
const sendWave = async (
  sqs: SQSClient,
  queueUrl: string,
  wave: readonly EventLine[],
  eventsFile: string,
): Promise<Map<number, string>> => {
  const sent = new Map<number, string>();
  for (let i = 0; i < wave.length; i += 10) {
    const chunk = wave.slice(i, i + 10);
    const { Successful = [], Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((line) => ({ Id: `line-${line.line}`, MessageBody: line.body })),
      }),
    );
    if (Failed.length > 0) {
      throw new InputFileError(
        eventsFile,
        `SQS refused ${Failed.map((f) => `${f.Id?.replace('line-', 'line ')} (${f.Code}: ${f.Message})`).join(', ')}`,
      );
    }
    for (const entry of Successful) {
      if (entry.Id && entry.MessageId)
        sent.set(Number(entry.Id.slice('line-'.length)), entry.MessageId);
    }
  }
  return sent;
};

const mappingLogger = (logLevel: LocalDemoOptions['logLevel']) =>
  // At start the mapping warns that the visibility timeout is below AWS's 6× advice: a choice
  // made here (see VISIBILITY_TIMEOUT_SECONDS), so its warnings show only from `info` down.
  pino(
    { level: ['info', 'debug', 'trace'].includes(logLevel) ? logLevel : 'error' },
    pino.destination({ dest: 2, sync: true }),
  );

/**
 * Runs the whole pipeline on this machine and keeps it up: starts the local stack seeded with
 * the datashares, arms the demo faults, loads the real handler, sends the events in waves through
 * a local SQS event source mapping until the queue is drained, and builds the summary.
 *
 * @throws {InputFileError} when an input file cannot be read or parsed (nothing is left running).
 * @example
 * const demo = await startLocalDemo({ ...DEFAULT_OPTIONS }, { stderr: (t) => process.stderr.write(t) });
 * console.log(demo.summary.outcomeCounts);
 * await demo.stop();
 */
export const startLocalDemo = async (
  options: LocalDemoOptions,
  output: DemoOutput,
): Promise<RunningLocalDemo> => {
  const startedAt = performance.now();
  const lines = await readEventsFile(options.eventsFile);
  const seed = await loadSeed(options.datasharesFile);
  const demoFaults = demoFaultsFor(lines);
  // Hub mode: STS knows the spokes and their roles, and Redshift acts in the account of the
  // credentials that sign each call (each account sees its own associations only).
  const scope: AccountScopeFacts = {
    ownAccountId: DEMO_HUB.accountId,
    consumerAccounts: options.singleAccount ? [] : DEMO_HUB.consumerAccounts,
  };
  const stack = await startLocalStack({
    consumerAccountId: DEMO_HUB.accountId,
    ...(options.singleAccount ? {} : { accounts: DEFAULT_FILES.accounts }),
    datashares: seed,
    redshiftFaults: redshiftFaultsFor(options, demoFaults),
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  const stackReadyAt = performance.now();

  let workerStdout: WorkerStdout | undefined;
  let mapping: EventSourceMapping | undefined;
  // Sending, the queue checks and the event source mapping (Lambda's own poller) go straight to
  // fauxqs; the worker's calls go through the fault proxies (stack.env).
  const sqs = directSqsClientFor(stack);
  const stop = async () => {
    await mapping?.stop();
    workerStdout?.restore();
    sqs.destroy();
    await stack.stop();
  };

  try {
    const associationsBefore = associationRows(stack.redshift);
    workerStdout = routeWorkerStdout(output.stderr);
    const handler = await loadWorkerHandler(
      {
        ...stack.env,
        ...(options.singleAccount ? {} : hubWorkerEnv()),
        // The examples revoke region-wide and account-wide consumers: broad targets are opt-in.
        ALLOW_BROAD_TARGETS: 'true',
      },
      options.logLevel,
    );
    const workerLoadedAt = performance.now();
    mapping = createEventSourceMapping({
      sqs,
      queueUrl: stack.queues.source.url,
      queueArn: stack.queues.source.arn,
      accountId: stack.accountId,
      handler,
      ...MAPPING,
      logger: mappingLogger(options.logLevel),
      // `revoker pause` / the breaker disable it through the Lambda emulator.
      control: stack.lambda.controlOf(stack.workerMapping.uuid),
    });
    await mapping.start();

    const waves = wavesOf(lines);
    const messageIdOfLine = new Map<number, string>();
    let wave = 0;
    const running = mapping;
    const snapshot = (): ProgressSnapshot => {
      const source = stack.fauxqs.inspectQueue(stack.queues.source.name);
      const dlq = stack.fauxqs.inspectQueue(stack.queues.deadLetter.name);
      const calls = stack.redshift.stats().all;
      return {
        elapsedMs: performance.now() - startedAt,
        wave: Math.max(1, wave),
        waves: waves.length,
        sent: messageIdOfLine.size,
        total: lines.length,
        inFlight: source?.messages.inflight.length ?? 0,
        acknowledged: running.stats.messagesDeleted,
        deadLettered:
          (dlq?.messages.ready.length ?? 0) +
          (dlq?.messages.inflight.length ?? 0) +
          (dlq?.messages.delayed.length ?? 0),
        redshiftCalls: calls.total,
        redshiftThrottled: calls.throttled,
        auditEvents: stack.eventBridge.eventsOn(stack.auditEventBus.name).length,
      };
    };
    const progress: ProgressReporter = output.interactive
      ? barProgress(output.interactive.stream)
      : lineProgress(output.stderr);
    progress.start(snapshot);

    const giveUpAt = Date.now() + options.drainTimeoutSeconds * 1000;
    let drained = { ok: true, detail: 'nothing visible, in flight or delayed' };
    try {
      for (const lines of waves) {
        wave += 1;
        progress.note(`wave ${wave}/${waves.length}: sending ${lines.length} messages`);
        const sent = await sendWave(sqs, stack.queues.source.url, lines, options.eventsFile);
        for (const [line, messageId] of sent) messageIdOfLine.set(line, messageId);
        await mapping.waitForIdle({
          quietMs: IDLE_QUIET_MS,
          timeoutMs: Math.max(1, giveUpAt - Date.now()),
        });
      }
    } catch (error) {
      if (!(error instanceof WaitForIdleTimeoutError)) throw error;
      drained = { ok: false, detail: error.message };
    } finally {
      progress.stop();
    }
    const drainedAt = performance.now();

    const stillAssociated = new Map<string, boolean>();
    for (const event of stack.eventBridge.eventsOn(stack.auditEventBus.name)) {
      const { messageId, dataShareArn, consumer, consumerAccountId } = event.detail;
      const key = consumerKeyOfDetail(consumer, consumerAccountId);
      if (typeof messageId === 'string' && typeof dataShareArn === 'string' && key) {
        // A region-wide association is the consumer account's own: ask in that account.
        const account = typeof consumerAccountId === 'string' ? consumerAccountId : undefined;
        stillAssociated.set(messageId, stack.redshift.isAssociated(dataShareArn, key, account));
      }
    }
    const ebStats = stack.eventBridge.stats();
    const facts: RunFacts = {
      eventsFile: options.eventsFile,
      datasharesFile: options.datasharesFile,
      datashares: seed.datashares.length,
      lines,
      messageIdOfLine,
      faults: {
        seed: stack.redshift.randomSeed,
        throttleRps: options.throttleRps,
        errorRate: options.errorRate,
        latencyMs: options.latencyMs,
        targeted: demoFaults,
      },
      auditEventBusName: stack.auditEventBus.name,
      auditEvents: stack.eventBridge.events.map((event) => ({
        eventBusName: event.eventBusName,
        detail: event.detail,
      })),
      putEventsCalls: ebStats.calls,
      failedAuditEntries: Object.values(ebStats.failedEntries).reduce((a, b) => a + b, 0),
      redshift: stack.redshift.stats(),
      redshiftCalls: [...stack.redshift.calls],
      stsCalls: [...stack.sts.calls],
      accountScope: scope,
      deadLetters: await readDeadLetterQueue(sqs, stack.queues.deadLetter.url),
      mapping: mapping.stats,
      drained,
      associations: { before: associationsBefore, after: associationRows(stack.redshift) },
      stillAssociated,
      workerMetrics: workerStdout.metrics(),
      timings: {
        stackMs: stackReadyAt - startedAt,
        workerLoadMs: workerLoadedAt - stackReadyAt,
        processingMs: drainedAt - workerLoadedAt,
        summaryMs: 0,
      },
      durationMs: 0,
    };
    const finishedAt = performance.now();
    facts.timings.summaryMs = finishedAt - drainedAt;
    facts.durationMs = finishedAt - startedAt;
    for (const [name, ms] of Object.entries(facts.timings)) {
      facts.timings[name as keyof RunFacts['timings']] = Math.round(ms);
    }
    facts.durationMs = Math.round(facts.durationMs);
    return { summary: buildSummary(facts), stack, mapping, sqs, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
};

/**
 * {@link startLocalDemo}, then stops everything: the summary of one whole run.
 *
 * @throws {InputFileError} when an input file cannot be read or parsed.
 * @example
 * const summary = await runLocalDemo(DEFAULT_OPTIONS, { stderr: () => {} });
 * summary.ok; // every check passed
 */
export const runLocalDemo = async (
  options: LocalDemoOptions,
  output: DemoOutput,
): Promise<LocalDemoSummary> => {
  const demo = await startLocalDemo(options, output);
  await demo.stop();
  return demo.summary;
};
