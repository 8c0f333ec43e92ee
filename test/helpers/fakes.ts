import { pino } from 'pino';
import { InMemoryIdempotencyStore } from '../../src/adapters/memory-store.js';
import type { Association } from '../../src/core/audit.js';
import type { AwsFailureDetails } from '../../src/core/errors.js';
import { AwsCallError, FailureKind, RedshiftCallError } from '../../src/core/errors.js';
import { Outcome } from '../../src/core/outcome.js';
import { type DisassociationTarget, targetKey } from '../../src/core/target.js';
import type {
  AssociationsRead,
  AuditEntry,
  AuditEntryResult,
  AuditPublisher,
  DataShareRevoker,
  DeadLetterCopy,
  DisassociationResult,
  MessageQueue,
  MetricName,
  Metrics,
  RequeueCopy,
  SendResult,
  VisibilityChange,
} from '../../src/worker/ports.js';
import type { WorkerDependencies, WorkerSettings } from '../../src/worker/process-batch.js';
import { RedshiftGates } from '../../src/worker/redshift-gate.js';

/** A clock that only moves when the code under test sleeps (or the test advances it). */
export class VirtualClock {
  now = Date.parse('2026-11-25T09:00:00Z');
  readonly read = (): number => this.now;
  readonly sleep = async (ms: number): Promise<void> => {
    this.now += ms;
  };
  advance(ms: number): void {
    this.now += ms;
  }
}

export const throttle = (): RedshiftCallError =>
  new RedshiftCallError('Rate exceeded', {
    kind: FailureKind.Throttled,
    code: 'Throttling',
    httpStatusCode: 400,
  });
export const serverError = (): RedshiftCallError =>
  new RedshiftCallError('Internal failure', {
    kind: FailureKind.Transient,
    code: 'InternalFailure',
    httpStatusCode: 500,
  });
export const permanent = (
  code = 'InvalidNamespaceFault',
  message = 'The namespace does not exist',
): RedshiftCallError =>
  new RedshiftCallError(message, { kind: FailureKind.Permanent, code, httpStatusCode: 400 });

type RevokerStep =
  | DisassociationResult
  | RedshiftCallError
  | Error
  | 'hang'
  | ((signal: AbortSignal) => Promise<DisassociationResult>);

type DescribeStep =
  | Association[]
  | RedshiftCallError
  | Error
  | ((signal: AbortSignal) => Promise<Association[]>);

/** Long before any test's decision: the default association is in force for every decision. */
export const LONG_AGO = '2020-01-01T00:00:00.000Z';

/** The ACTIVE association a target's disassociate call removes, dated `changedAt`. */
export const activeAssociation = (
  target: DisassociationTarget,
  changedAt: string = LONG_AGO,
): Association => ({
  consumerIdentifier: target.consumer.kind === 'namespace' ? target.consumer.arn : target.accountId,
  status: 'ACTIVE',
  ...(target.consumer.kind === 'region' && { consumerRegion: target.consumer.region }),
  createdDate: changedAt,
  statusChangeDate: changedAt,
});

/**
 * DataShareRevoker twin: answers from a script per target, REVOKED when the script is empty; its
 * describe answers from its own script, else one ACTIVE association of the target from long ago.
 */
export class FakeRevoker implements DataShareRevoker {
  readonly calls: {
    target: DisassociationTarget;
    region: string;
    assumeRole: boolean;
    at: number;
  }[] = [];
  readonly #scripts = new Map<string, RevokerStep[]>();
  #inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly clock: () => number = Date.now) {}

  script(target: DisassociationTarget | string, ...steps: RevokerStep[]): this {
    const key = typeof target === 'string' ? target : targetKey(target);
    this.#scripts.set(key, [...(this.#scripts.get(key) ?? []), ...steps]);
    return this;
  }

  callsFor(target: DisassociationTarget): number {
    return this.calls.filter((call) => targetKey(call.target) === targetKey(target)).length;
  }

  readonly describeCalls: { target: DisassociationTarget; assumeRole: boolean; at: number }[] = [];
  readonly #describeScripts = new Map<string, DescribeStep[]>();

  scriptDescribe(target: DisassociationTarget, ...steps: DescribeStep[]): this {
    const key = targetKey(target);
    this.#describeScripts.set(key, [...(this.#describeScripts.get(key) ?? []), ...steps]);
    return this;
  }

  describeCallsFor(target: DisassociationTarget): number {
    return this.describeCalls.filter((call) => targetKey(call.target) === targetKey(target)).length;
  }

  async describeAssociations(
    target: DisassociationTarget,
    options: { region: string; signal: AbortSignal; assumeRole: boolean },
  ): Promise<AssociationsRead> {
    this.describeCalls.push({ target, assumeRole: options.assumeRole, at: this.clock() });
    await Promise.resolve();
    const step = this.#describeScripts.get(targetKey(target))?.shift();
    const actor = { accountId: target.accountId, roleArn: null };
    if (step === undefined)
      return { associations: [activeAssociation(target)], actor, requestId: 'describe-request' };
    if (step instanceof Error) throw step;
    const associations = typeof step === 'function' ? await step(options.signal) : step;
    return { associations, actor, requestId: 'describe-request' };
  }

  async disassociate(
    target: DisassociationTarget,
    options: { region: string; signal: AbortSignal; assumeRole: boolean },
  ): Promise<DisassociationResult> {
    this.calls.push({
      target,
      region: options.region,
      assumeRole: options.assumeRole,
      at: this.clock(),
    });
    this.#inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    try {
      await Promise.resolve();
      const step = this.#scripts.get(targetKey(target))?.shift();
      if (step === undefined) return { outcome: Outcome.Revoked, associations: [] };
      if (step === 'hang') {
        return await new Promise((_, reject) => {
          options.signal.addEventListener('abort', () =>
            reject(
              new RedshiftCallError('Request timed out', {
                kind: FailureKind.Transient,
                code: 'TimeoutError',
              }),
            ),
          );
        });
      }
      if (typeof step === 'function') return await step(options.signal);
      if (step instanceof Error) throw step;
      return step;
    } finally {
      this.#inFlight -= 1;
    }
  }
}

type AuditStep =
  | AuditEntryResult[]
  | AwsCallError
  | ((entries: readonly AuditEntry[]) => AuditEntryResult[]);

/**
 * AuditPublisher twin: records accepted entries; scripted failures per call. Like EventBridge, it
 * refuses a whole call of more than 10 entries or of entries totalling 256 KB or more, with a
 * permanent ValidationException.
 */
export class FakeAuditPublisher implements AuditPublisher {
  readonly calls: AuditEntry[][] = [];
  readonly accepted: AuditEntry[] = [];
  readonly #script: AuditStep[] = [];
  /** Entries whose key is listed here fail with this result every time. */
  readonly alwaysFail = new Map<string, AuditEntryResult>();
  /** Calls refused whole for their size or count. */
  readonly refused: AuditEntry[][] = [];
  maxRequestBytes = 256 * 1024;

  constructor(private readonly source = 'governance.datashare-revoker') {}

  /** EventBridge's count: Source, DetailType, Detail and each resource, in UTF-8 bytes. */
  entrySize(entry: AuditEntry): number {
    return [this.source, 'Datashare Revocation Result', entry.detail, ...entry.resources].reduce(
      (total, text) => total + Buffer.byteLength(text, 'utf8'),
      0,
    );
  }

  script(...steps: AuditStep[]): this {
    this.#script.push(...steps);
    return this;
  }

  details(): Record<string, unknown>[] {
    return this.accepted.map((entry) => JSON.parse(entry.detail) as Record<string, unknown>);
  }

  async publish(entries: readonly AuditEntry[]): Promise<AuditEntryResult[]> {
    this.calls.push([...entries]);
    const bytes = entries.reduce((total, entry) => total + this.entrySize(entry), 0);
    if (entries.length > 10 || bytes >= this.maxRequestBytes) {
      this.refused.push([...entries]);
      throw new AwsCallError(`PutEvents failed: request of ${bytes} bytes is too large`, {
        kind: FailureKind.Permanent,
        code: 'ValidationException',
        httpStatusCode: 400,
      });
    }
    const step = this.#script.shift();
    if (step instanceof AwsCallError) throw step;
    const results: AuditEntryResult[] =
      typeof step === 'function'
        ? step(entries)
        : (step ?? entries.map((): AuditEntryResult => ({ ok: true })));
    return entries.map((entry, index) => {
      const result = this.alwaysFail.get(entry.key) ?? results[index] ?? { ok: true };
      if (result.ok) this.accepted.push(entry);
      return result;
    });
  }
}

export const entryFailure = (code: string, retryable: boolean): AuditEntryResult => ({
  ok: false,
  code,
  message: code,
  retryable,
});
export const callFailure = (details: Partial<AwsFailureDetails> = {}): AwsCallError =>
  new AwsCallError('PutEvents failed', {
    kind: FailureKind.Transient,
    code: 'InternalFailure',
    ...details,
  });

/** MessageQueue twin: records dead-letter copies and visibility changes. */
export class FakeMessageQueue implements MessageQueue {
  readonly deadLetters: DeadLetterCopy[] = [];
  readonly visibilityChanges: VisibilityChange[] = [];
  /** Message ids whose dead-letter copy fails. */
  readonly failSendFor = new Set<string>();
  failAllSends = false;

  async sendToDeadLetterQueue(copies: readonly DeadLetterCopy[]): Promise<SendResult[]> {
    if (this.failAllSends)
      throw new AwsCallError('SendMessageBatch failed', {
        kind: FailureKind.Transient,
        code: 'ServiceUnavailable',
      });
    return copies.map((copy) => {
      if (this.failSendFor.has(copy.id))
        return { ok: false, code: 'InternalError', message: 'send failed' };
      this.deadLetters.push(copy);
      return { ok: true };
    });
  }

  async changeVisibility(changes: readonly VisibilityChange[]): Promise<SendResult[]> {
    this.visibilityChanges.push(...changes);
    return changes.map(() => ({ ok: true }));
  }

  /** Copies sent back to their queue (the breaker's hold). */
  readonly requeued: RequeueCopy[] = [];
  failRequeue = false;

  async requeue(copies: readonly RequeueCopy[]): Promise<SendResult[]> {
    if (this.failRequeue)
      throw new AwsCallError('SendMessageBatch failed', {
        kind: FailureKind.Transient,
        code: 'ServiceUnavailable',
      });
    this.requeued.push(...copies);
    return copies.map(() => ({ ok: true }));
  }
}

export class RecordingMetrics implements Metrics {
  readonly totals = new Map<MetricName, number>();
  readonly samples = new Map<MetricName, number[]>();
  flushes = 0;
  add(name: MetricName, value: number, unit: 'Count' | 'Milliseconds' = 'Count'): void {
    if (unit === 'Count') this.totals.set(name, (this.totals.get(name) ?? 0) + value);
    else this.samples.set(name, [...(this.samples.get(name) ?? []), value]);
  }
  flush(): void {
    this.flushes += 1;
  }
  count(name: MetricName): number {
    return this.totals.get(name) ?? 0;
  }
}

export const DEFAULT_SETTINGS: WorkerSettings = {
  region: 'us-east-1',
  queueVisibilityTimeoutSeconds: 30,
  retryBackoffBaseSeconds: 30,
  auditEventBusName: 'revoker-audit',
  auditEventSource: 'governance.datashare-revoker',
  maxReceiveCount: 5,
  clockSkewMarginSeconds: 30,
  // A day: the tests' decisions, issued an hour before the virtual clock, are fresh unless a test
  // says otherwise (received again, replayed, or a shorter STALE_AFTER_SECONDS).
  staleAfterSeconds: 86_400,
  redshiftMaxAttempts: 4,
  redshiftRequestTimeoutMs: 5000,
  deadlineReserveMs: 3000,
  dryRun: false,
  allowBroadTargets: false,
};

export interface TestWorker {
  deps: WorkerDependencies;
  clock: VirtualClock;
  revoker: FakeRevoker;
  audit: FakeAuditPublisher;
  queue: FakeMessageQueue;
  store: InMemoryIdempotencyStore;
  metrics: RecordingMetrics;
  logs: Record<string, unknown>[];
}

/** A worker wired to twins and a virtual clock. Settings, store and clock may be shared between workers. */
export const testWorker = (
  options: {
    settings?: Partial<WorkerSettings>;
    store?: InMemoryIdempotencyStore;
    clock?: VirtualClock;
    realTime?: boolean;
  } = {},
): TestWorker => {
  const clock = options.clock ?? new VirtualClock();
  const read = options.realTime ? Date.now : clock.read;
  const sleep = options.realTime
    ? (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
    : clock.sleep;
  const store = options.store ?? new InMemoryIdempotencyStore({ ttlSeconds: 86_400, clock: read });
  const settings = { ...DEFAULT_SETTINGS, ...options.settings };
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const revoker = new FakeRevoker(read);
  const audit = new FakeAuditPublisher(settings.auditEventSource);
  const queue = new FakeMessageQueue();
  const metrics = new RecordingMetrics();
  let seed = 1;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return (seed - 1) / 2147483646;
  };
  return {
    deps: {
      settings,
      revoker,
      audit,
      queue,
      store,
      gate: new RedshiftGates({ maxConcurrency: 5, clock: read, sleep }),
      metrics,
      logger,
      clock: read,
      sleep,
      random,
    },
    clock,
    revoker,
    audit,
    queue,
    store,
    metrics,
    logs,
  };
};
