/**
 * The end-to-end harness: a local stack (fauxqs, dynalite, the Redshift and EventBridge
 * emulators), the local event source mapping, and the worker's real handler behind it. Tests see
 * the worker from outside only: the queues, the audit events, the Redshift emulator's state and
 * its call log.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import pLimit from 'p-limit';
import { vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  type BatchReport,
  createEventSourceMapping,
  type EventSourceMapping,
  type EventSourceMappingOptions,
  type EventSourceMappingStats,
} from '../../src/local/event-source-mapping.js';
import {
  directSqsClientFor,
  type LocalStack,
  type LocalStackOptions,
  sqsClientFor,
  startLocalStack,
} from '../../src/local/stack.js';
import { createWorkerDependencies } from '../../src/wiring.js';
import { processBatch } from '../../src/worker/process-batch.js';

// ── What the worker publishes, as the contract (README, "Audit event") describes it ────────────

export type Outcome =
  | 'REVOKED'
  | 'ALREADY_REVOKED'
  | 'DRY_RUN'
  | 'REJECTED'
  | 'FAILED'
  | 'SUPERSEDED';

export interface AuditDetail {
  schemaVersion: number;
  eventId: string | null;
  outcome: Outcome;
  dataShareArn: string | null;
  consumer: { arn: string } | { region: string } | { entireAccount: true } | null;
  policyId: string | null;
  issuedAt: string | null;
  processedAt: string;
  attempts: number;
  receiveCount: number;
  replayed: boolean;
  dryRun: boolean;
  messageId: string;
  worker: { functionName: string; functionVersion: string; awsRequestId: string };
  error?: { code: string; message: string };
  satisfiedBy?: string;
  supersededBy?: { associationChangedAt: string; status: string };
  /** The successful Redshift response's RequestId (null when no call answered). */
  redshiftRequestId?: string | null;
  bodySha256?: string;
}

export interface AuditEvent {
  source: string;
  detailType: string;
  resources: string[];
  detail: AuditDetail;
}

/** A message found in the dead-letter queue. */
export interface DeadLetter {
  messageId: string;
  body: string;
  /** Message attributes as strings (binary ones base64). */
  attributes: Record<string, string>;
  /** The worker's `revoker.*` reason, or `undefined` when SQS itself moved the message. */
  revoker:
    | {
        outcome: string;
        errorCode: string;
        errorMessage: string;
        sourceMessageId: string;
        receiveCount: string;
        failedAt: string;
      }
    | undefined;
}

export interface SentMessage {
  messageId: string;
  body: string;
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

// ── The function under test ────────────────────────────────────────────────────────────────────

export type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * A cold start through the module, as Lambda does it: `src/handler.ts` reads `process.env` and
 * builds its clients while it loads. `vi.resetModules()` makes each import a new container.
 */
export const coldStartFromModule = async (): Promise<Handler> => {
  vi.resetModules();
  const module = await import('../../src/handler.js');
  return module.handler;
};

/** The same path minus module scope: configuration, wiring, `processBatch`. */
export const coldStartFromConfig =
  (env: Readonly<Record<string, string | undefined>>) => async (): Promise<Handler> => {
    const dependencies = await createWorkerDependencies(loadConfig(env));
    return (event, context) => processBatch(event, context, dependencies);
  };

/** What happens once the real handler has returned (its side effects are done). */
export type Fate = 'return' | 'crash' | 'timeout';

export interface LambdaServiceOptions {
  coldStart: () => Handler | Promise<Handler>;
  /** Decides each invocation's fate; `invocation` counts from 1. Default: always `return`. */
  fate?: (invocation: number, event: SQSEvent) => Fate;
}

export interface LambdaService {
  /** Give this to the event source mapping. */
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
  readonly counts: { invocations: number; coldStarts: number; crashes: number; timeouts: number };
  /** Resolves once every invocation, including those past their timeout, has settled. */
  settled(): Promise<void>;
}

/**
 * Lambda in front of the real handler: a pool of execution environments ("containers"), each
 * running one invocation at a time, cold-started on demand. A `crash` throws after the real
 * handler returned; a `timeout` holds the response back until after the function timeout, so the
 * mapping fails the whole batch, and the container is discarded (Lambda resets a timed-out one).
 */
export const createLambdaService = (options: LambdaServiceOptions): LambdaService => {
  const idle: Handler[] = [];
  const running = new Set<Promise<unknown>>();
  const counts = { invocations: 0, coldStarts: 0, crashes: 0, timeouts: 0 };
  // Cold starts one at a time: a module import must not interleave with another's reset.
  let coldStarts: Promise<unknown> = Promise.resolve();
  const coldStart = (): Promise<Handler> => {
    counts.coldStarts += 1;
    const next = coldStarts.then(() => options.coldStart());
    coldStarts = next.catch(() => undefined);
    return next;
  };

  const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    counts.invocations += 1;
    const invocation = counts.invocations;
    const run = (async () => {
      const container = idle.pop() ?? (await coldStart());
      let fate: Fate = 'return';
      try {
        const response = await container(event, context);
        fate = options.fate?.(invocation, event) ?? 'return';
        if (fate === 'crash') {
          counts.crashes += 1;
          throw new Error(`injected crash after invocation ${invocation} returned`);
        }
        if (fate === 'timeout') {
          counts.timeouts += 1;
          await delay(context.getRemainingTimeInMillis() + 250);
        }
        return response;
      } finally {
        if (fate !== 'timeout') idle.push(container);
      }
    })();
    running.add(run);
    void run.then(
      () => running.delete(run),
      () => running.delete(run),
    );
    return run;
  };

  return {
    handler,
    counts,
    settled: async () => {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
};

/**
 * Containers cold-started from `env` (`coldStartFromConfig`), numbered from 1 in the order they
 * start; `containerOf` says which one ran an invocation (by `awsRequestId`, which the audit
 * event's `worker` carries).
 */
export const createTaggedLambdaService = (
  env: Readonly<Record<string, string | undefined>>,
): { service: LambdaService; containerOf: ReadonlyMap<string, number> } => {
  const containerOf = new Map<string, number>();
  let containers = 0;
  const service = createLambdaService({
    coldStart: async () => {
      const container = ++containers;
      const handler = await coldStartFromConfig(env)();
      const tagged: Handler = (event, context) => {
        containerOf.set(context.awsRequestId, container);
        return handler(event, context);
      };
      return tagged;
    },
  });
  return { service, containerOf };
};

// ── The stack ──────────────────────────────────────────────────────────────────────────────────

export interface E2eOptions extends LocalStackOptions {
  /** Worker variables on top of the stack's (e.g. `DEADLINE_RESERVE_MS`). */
  workerEnv?: Record<string, string>;
}

/** The event source mapping's settings (`handler` and `onBatch` are the harness's). */
export type MappingOptions = Partial<
  Omit<EventSourceMappingOptions, 'sqs' | 'queueUrl' | 'handler' | 'onBatch'>
> & {
  /**
   * How Lambda's poller reaches SQS: `direct` (default) past the fault proxy, as AWS retries its
   * poller's failures inside Lambda; `proxied` through `stack.sqsProxy`, so that faults armed on
   * `DeleteMessageBatch` (or `ReceiveMessage`) hit the mapping too — e.g. a delete whose answer
   * is lost. Its client times out after the long poll plus 5 s: a hang does not stall it.
   */
  poller?: 'direct' | 'proxied';
};

export interface DrainOptions {
  /** Give up waiting for the queue to drain after this long (default 60 s). */
  idleTimeoutMs?: number;
  /** Called after each batch (once its deletes are done) while this drain waits. */
  onBatch?: (report: BatchReport) => void;
}

export interface Drained {
  /** The batches since the previous drain ended (or since the start). */
  reports: BatchReport[];
  stats: EventSourceMappingStats;
  durationMs: number;
}

/** A mapping that keeps polling the source queue across tests. */
export interface RunningWorker {
  /** Where invocations go from now on. */
  use(handler: LambdaService['handler']): void;
  /** Every batch so far. */
  readonly reports: readonly BatchReport[];
  /** Resolves once nothing is visible, in flight or in a batch, for a moment. */
  drain(options?: DrainOptions): Promise<Drained>;
  stop(): Promise<void>;
}

export interface E2eStack {
  stack: LocalStack;
  /** Straight to fauxqs, past the fault proxy. */
  sqs: SQSClient;
  /** The worker's environment, also set on `process.env` until `stop()`. */
  env: Record<string, string>;
  /** Sends bodies (objects are JSON-encoded) to the source queue, in order, 10 per call. */
  send(
    bodies: readonly (string | Record<string, unknown>)[],
    attributes?: Record<string, MessageAttributeValue>,
  ): Promise<SentMessage[]>;
  /** Starts a mapping on the source queue that runs until `stop()`. */
  startWorker(handler: LambdaService['handler'], options?: MappingOptions): Promise<RunningWorker>;
  /** Starts a mapping, drains the queue, stops the mapping. */
  run(handler: LambdaService['handler'], options?: MappingOptions & DrainOptions): Promise<Drained>;
  /** Audit events accepted on the audit bus so far. */
  auditEvents(): AuditEvent[];
  /** Every dead letter received so far (they are read, then deleted from the DLQ). */
  deadLetters(): Promise<DeadLetter[]>;
  depth(queue: 'source' | 'deadLetter'): Promise<QueueDepth>;
  stop(): Promise<void>;
}

/**
 * The worker writes its metrics as one EMF JSON line per invocation on stdout; hundreds of them
 * would bury the test output. Dropped unless E2E_SHOW_METRICS=1; returns the undo.
 */
const muteMetricLines = (): (() => void) => {
  if (process.env.E2E_SHOW_METRICS === '1') return () => undefined;
  const write = process.stdout.write;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && chunk.startsWith('{"_aws":')
      ? true
      : (write as (...args: unknown[]) => boolean).call(
          process.stdout,
          chunk,
          ...rest,
        )) as typeof process.stdout.write;
  return () => {
    process.stdout.write = write;
  };
};

const WAIT_TIME_SECONDS = 1;

const attributeText = (value: MessageAttributeValue): string =>
  value.StringValue ?? (value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : '');

export const startE2eStack = async (options: E2eOptions = {}): Promise<E2eStack> => {
  const { workerEnv, ...stackOptions } = options;
  const stack = await startLocalStack(stackOptions);
  const env: Record<string, string> = {
    ...stack.env,
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'silent',
    ...workerEnv,
  };
  // The SDK reads AWS_ENDPOINT_URL_* and the credentials lazily, at the first request: the
  // variables must stay set while the worker runs, not only while its module loads.
  const savedEnv = { ...process.env };
  Object.assign(process.env, env);
  const unmute = muteMetricLines();
  // The harness's own SQS traffic (sending, depth checks, the event source mapping, which is
  // Lambda's poller) goes straight to fauxqs: faults armed on stack.sqsProxy hit the worker only.
  const sqs = directSqsClientFor(stack);
  const seenDeadLetters: DeadLetter[] = [];

  const depth = async (queue: 'source' | 'deadLetter'): Promise<QueueDepth> => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.queues[queue].url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
    };
  };

  const startWorker = async (
    handler: LambdaService['handler'],
    options: MappingOptions = {},
  ): Promise<RunningWorker> => {
    let current = handler;
    const reports: BatchReport[] = [];
    let unread = 0;
    const hooks = new Set<(report: BatchReport) => void>();
    const { poller = 'direct', ...mappingOptions } = options;
    const waitTimeSeconds = options.waitTimeSeconds ?? WAIT_TIME_SECONDS;
    const pollerSqs =
      poller === 'direct'
        ? sqs
        : sqsClientFor(stack, {
            requestHandler: new NodeHttpHandler({ requestTimeout: (waitTimeSeconds + 5) * 1000 }),
          });
    const mapping: EventSourceMapping = createEventSourceMapping({
      sqs: pollerSqs,
      queueUrl: stack.queues.source.url,
      queueArn: stack.queues.source.arn,
      accountId: stack.accountId,
      handler: (event, context) => current(event, context),
      batchSize: 10,
      // The breaker and `revoker pause` disable it through the Lambda emulator.
      control: stack.lambda.controlOf(stack.workerMapping.uuid),
      // Short polls so that stop() returns quickly.
      waitTimeSeconds,
      ...mappingOptions,
      onBatch: (report) => {
        reports.push(report);
        for (const hook of hooks) hook(report);
      },
    });
    await mapping.start();
    return {
      use: (next) => {
        current = next;
      },
      reports,
      async drain({ idleTimeoutMs = 60_000, onBatch } = {}) {
        const startedAt = Date.now();
        if (onBatch) hooks.add(onBatch);
        try {
          await mapping.waitForIdle({ timeoutMs: idleTimeoutMs, quietMs: 200 });
        } finally {
          if (onBatch) hooks.delete(onBatch);
        }
        const drained = reports.slice(unread);
        unread = reports.length;
        return { reports: drained, stats: mapping.stats, durationMs: Date.now() - startedAt };
      },
      async stop() {
        await mapping.stop();
        // stop() aborts the open long poll on our side only: fauxqs keeps it until its wait ends
        // and would hand the next messages to nobody (they would then stay invisible for a whole
        // visibility timeout). Let it end.
        await delay(waitTimeSeconds * 1000 + 200);
        if (pollerSqs !== sqs) pollerSqs.destroy();
      },
    };
  };

  const e2e: E2eStack = {
    stack,
    sqs,
    env,
    async send(bodies, attributes) {
      const texts = bodies.map((body) => (typeof body === 'string' ? body : JSON.stringify(body)));
      const chunks: string[][] = [];
      for (let i = 0; i < texts.length; i += 10) chunks.push(texts.slice(i, i + 10));
      const limit = pLimit(4);
      const sent = await Promise.all(
        chunks.map((chunk) =>
          limit(async () => {
            const { Successful = [], Failed = [] } = await sqs.send(
              new SendMessageBatchCommand({
                QueueUrl: stack.queues.source.url,
                Entries: chunk.map((body, index) => ({
                  Id: `m${index}`,
                  MessageBody: body,
                  ...(attributes && { MessageAttributes: attributes }),
                })),
              }),
            );
            if (Failed.length > 0)
              throw new Error(`SendMessageBatch failed: ${JSON.stringify(Failed)}`);
            return chunk.map((body, index) => {
              const entry = Successful.find((s) => s.Id === `m${index}`);
              if (!entry?.MessageId)
                throw new Error(`SendMessageBatch returned no id for m${index}`);
              return { messageId: entry.MessageId, body };
            });
          }),
        ),
      );
      return sent.flat();
    },
    startWorker,
    async run(handler, { idleTimeoutMs, onBatch, ...options } = {}) {
      const worker = await startWorker(handler, options);
      try {
        return await worker.drain({
          ...(idleTimeoutMs !== undefined && { idleTimeoutMs }),
          ...(onBatch && { onBatch }),
        });
      } finally {
        await worker.stop();
      }
    },
    auditEvents: () =>
      stack.eventBridge.eventsOn(stack.auditEventBus.name).map((event) => ({
        source: event.source,
        detailType: event.detailType,
        resources: event.resources,
        detail: event.detail as unknown as AuditDetail,
      })),
    async deadLetters() {
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.queues.deadLetter.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: 300,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) break;
        for (const message of Messages) {
          const attributes = Object.fromEntries(
            Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
              name,
              attributeText(value),
            ]),
          );
          const outcome = attributes['revoker.outcome'];
          seenDeadLetters.push({
            messageId: message.MessageId ?? '',
            body: message.Body ?? '',
            attributes,
            revoker:
              outcome === undefined
                ? undefined
                : {
                    outcome,
                    errorCode: attributes['revoker.errorCode'] ?? '',
                    errorMessage: attributes['revoker.errorMessage'] ?? '',
                    sourceMessageId: attributes['revoker.sourceMessageId'] ?? '',
                    receiveCount: attributes['revoker.receiveCount'] ?? '',
                    failedAt: attributes['revoker.failedAt'] ?? '',
                  },
          });
        }
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: stack.queues.deadLetter.url,
            Entries: Messages.map((message, index) => ({
              Id: `d${index}`,
              ReceiptHandle: message.ReceiptHandle ?? '',
            })),
          }),
        );
      }
      return [...seenDeadLetters];
    },
    depth,
    async stop() {
      sqs.destroy();
      await stack.stop();
      unmute();
      for (const name of Object.keys(env)) delete process.env[name];
      Object.assign(process.env, savedEnv);
    },
  };
  return e2e;
};

/** The batches that carried any of these messages. */
export const reportsOf = (
  reports: readonly BatchReport[],
  messages: readonly SentMessage[],
): BatchReport[] => {
  const ids = new Set(messages.map((m) => m.messageId));
  return reports.filter((r) => r.messageIds.some((id) => ids.has(id)));
};

/** Audit events of one eventId. */
export const auditOf = (events: readonly AuditEvent[], eventId: string): AuditDetail[] =>
  events.filter((event) => event.detail.eventId === eventId).map((event) => event.detail);

/** Network handles (servers, sockets) open right now. */
export const networkHandles = (): number =>
  process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'TCPSocketWrap')
    .length;
