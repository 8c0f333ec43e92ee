import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type {
  BreakerLimit,
  BreakerOpening,
  BreakerState,
  ReservationRequest,
} from '../core/breaker.js';
import { type Clock, systemClock } from '../core/deadline.js';
import { FailureKind, IdempotencyStoreError } from '../core/errors.js';
import type {
  ClaimResult,
  Completion,
  ConfirmationEntry,
  IdempotencyStore,
  Lease,
  QuarantineStage,
  ReserveResult,
  Resolution,
  StoreSnapshot,
  TargetConfirmation,
} from '../worker/ports.js';
import { failureDetailsOf, messageOf } from './aws-error.js';
import {
  closeBreakerRecord,
  readBreakerState,
  releaseRevocation,
  reserveRevocations,
} from './breaker-record.js';
import { retentionUntil, type StoreRetention } from './retention.js';

/** Decision item states. */
const Status = { InProgress: 'IN_PROGRESS', Resolved: 'RESOLVED', Completed: 'COMPLETED' } as const;

/** How many times a claim re-reads after losing a race before calling the decision busy. */
const CLAIM_ROUNDS = 3;

type Item = Record<string, AttributeValue>;

/** `BatchGetItem` takes at most 100 keys a request. */
export const BATCH_GET_MAX_KEYS = 100;
/**
 * `TransactWriteItems` takes at most 100 actions, and at most 4 MB of items: a claim's item is well
 * under 1 KB (eventIds are at most 256 characters), so the count is the bound that applies.
 */
export const TRANSACT_MAX_ITEMS = 100;
/** `BatchWriteItem` takes at most 25 items a request, and at most 16 MB. */
export const BATCH_WRITE_MAX_ITEMS = 25;
/** Our bound on one `BatchWriteItem` request's items, by their JSON length: well under 16 MB. */
export const BATCH_WRITE_MAX_BYTES = 4 * 1024 * 1024;
/**
 * Keys or items DynamoDB left unprocessed (throttled, or past 16 MB) are sent again, after a
 * pause that doubles from 25 ms, at most this many times and never past the caller's signal.
 */
const UNPROCESSED_ROUNDS = 4;
const UNPROCESSED_FIRST_PAUSE_MS = 25;

const chunked = <T>(
  items: readonly T[],
  fits: (chunk: readonly T[], next: T) => boolean,
): T[][] => {
  const chunks: T[][] = [];
  let current: T[] = [];
  for (const item of items) {
    if (current.length > 0 && !fits(current, item)) {
      chunks.push(current);
      current = [];
    }
    current.push(item);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const num = (item: Item | undefined, name: string): number | undefined =>
  item?.[name]?.N === undefined ? undefined : Number(item[name].N);
const str = (item: Item | undefined, name: string): string | undefined => item?.[name]?.S;

const isConditionalFailure = (error: unknown): error is Error & { Item?: Item } =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** A transaction DynamoDB refused as a whole (a condition failed, or a write conflicted): nothing written. */
const isCancelled = (error: unknown): boolean =>
  error instanceof IdempotencyStoreError &&
  error.cause instanceof Error &&
  error.cause.name === 'TransactionCanceledException';

/**
 * `IdempotencyStore` on a DynamoDB table with partition key `id` (S) and TTL on `expiration`
 * (epoch seconds). One table holds three kinds of item, told apart by the key's prefix:
 * `event#<eventId>` (a decision: IN_PROGRESS → RESOLVED → COMPLETED, with a lease),
 * `target#<target>` (when a target was last confirmed revoked) and `quarantine#<messageId>`,
 * plus the breaker's one record (`breaker#revocations`, see `breaker-record.ts`) and the Redshift
 * gates' records per control plane (`congestion#…`, and `pace#…` with the shared pace; see
 * `pace-record.ts`).
 * TTL deletion lags by up to days, so every read also checks `expiration` itself.
 */
export class DynamoDbIdempotencyStore implements IdempotencyStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #retention: StoreRetention;
  readonly #clock: Clock;

  /**
   * The client should make one attempt per call (`maxAttempts: 1`): every call is bounded by the
   * caller's signal, and SDK retries behind it would multiply the time a call can take.
   */
  constructor(
    options: StoreRetention & {
      client: DynamoDBClient;
      tableName: string;
      clock?: Clock;
    },
  ) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#retention = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** The `expiration` (epoch seconds) of an item written now that carries a lease until `heldUntil`. */
  #expiration(heldUntil = 0): number {
    return Math.ceil(retentionUntil(this.#retention, this.#clock(), heldUntil) / 1000);
  }

  /**
   * The conditional write that takes a decision nobody holds: no item, or one past its dedup window
   * (TTL deletion lags). The same in `claim` and in `claimNew`'s transaction, so a claim whose answer
   * was lost is found as this lease's own by either.
   */
  #claimUpdate(eventId: string, lease: Lease, now: number) {
    return {
      TableName: this.#table,
      Key: { id: s(`event#${eventId}`) },
      UpdateExpression:
        'SET #status = :inProgress, leaseUntil = :lease, #owner = :owner, expiration = :exp REMOVE resolution',
      ConditionExpression: 'attribute_not_exists(id) OR expiration < :nowSec',
      ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
      ExpressionAttributeValues: {
        ':inProgress': s(Status.InProgress),
        ':lease': n(lease.until),
        ':owner': s(lease.owner),
        ':exp': n(this.#expiration(lease.until)),
        ':nowSec': n(Math.floor(now / 1000)),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
  }

  async claim(eventId: string, lease: Lease, signal: AbortSignal): Promise<ClaimResult> {
    const key = { id: s(`event#${eventId}`) };
    for (let round = 0; round < CLAIM_ROUNDS; round += 1) {
      const now = this.#clock();
      try {
        await this.#call('claim', eventId, () =>
          this.#client.send(new UpdateItemCommand(this.#claimUpdate(eventId, lease, now)), {
            abortSignal: signal,
          }),
        );
        return { status: 'acquired' };
      } catch (error) {
        if (!isConditionalFailure(error)) throw error;
        const existing = error.Item ?? (await this.#get(`event#${eventId}`, eventId, signal));
        if (!existing) continue; // released in between: try again
        const status = str(existing, 'status');
        const resolution = parseResolution(str(existing, 'resolution'));
        if (status === Status.Completed && resolution) return { status: 'completed', resolution };
        const heldUntil = num(existing, 'leaseUntil') ?? 0;
        // Our own lease: an earlier claim of this invocation landed but its answer was lost.
        const ours = str(existing, 'owner') === lease.owner;
        if (heldUntil > now && !ours) return { status: 'in-progress', leaseUntil: heldUntil };
        // The holder's lease ended (it returned, crashed or timed out): take the decision over.
        const taken = await this.#takeOver(key, eventId, heldUntil, lease, signal);
        if (taken)
          return resolution && status === Status.Resolved
            ? { status: 'acquired', resolution }
            : { status: 'acquired' };
      }
    }
    return { status: 'in-progress', leaseUntil: lease.until };
  }

  async #takeOver(
    key: Item,
    eventId: string,
    expiredLease: number,
    lease: Lease,
    signal: AbortSignal,
  ): Promise<boolean> {
    try {
      await this.#call('claim', eventId, () =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: key,
            UpdateExpression: 'SET leaseUntil = :lease, #owner = :owner, expiration = :exp',
            ConditionExpression: 'leaseUntil = :expired AND #status <> :completed',
            ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
            ExpressionAttributeValues: {
              ':lease': n(lease.until),
              ':owner': s(lease.owner),
              ':exp': n(this.#expiration(lease.until)),
              ':expired': n(expiredLease),
              ':completed': s(Status.Completed),
            },
          }),
          { abortSignal: signal },
        ),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async claimNew(
    eventIds: readonly string[],
    lease: Lease,
    signal: AbortSignal,
  ): Promise<ReadonlySet<string>> {
    const now = this.#clock();
    const chunks = chunked([...new Set(eventIds)], (chunk) => chunk.length < TRANSACT_MAX_ITEMS);
    const claimed = new Set<string>();
    const errors: unknown[] = [];
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          await this.#call('claimNew', undefined, () =>
            this.#client.send(
              new TransactWriteItemsCommand({
                TransactItems: chunk.map((eventId) => ({
                  Update: this.#claimUpdate(eventId, lease, now),
                })),
              }),
              { abortSignal: signal },
            ),
          );
          for (const eventId of chunk) claimed.add(eventId);
        } catch (error) {
          // Cancelled (one of them was held, or a write conflicted): none of them was written.
          if (!isCancelled(error)) errors.push(error);
        }
      }),
    );
    if (errors.length > 0 && errors.length === chunks.length) throw errors[0];
    return claimed;
  }

  async resolve(eventId: string, resolution: Resolution, signal: AbortSignal): Promise<void> {
    // The lease ends with the write (leaseUntil 0): the return may take the decision at once.
    // Never over a completed decision: its duplicates must stay duplicates.
    await this.#put(
      eventId,
      `event#${eventId}`,
      {
        status: s(Status.Resolved),
        resolution: s(JSON.stringify(resolution)),
        leaseUntil: n(0),
      },
      signal,
      {
        ConditionExpression: 'attribute_not_exists(id) OR #status <> :completed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':completed': s(Status.Completed) },
      },
    );
  }

  async complete(eventId: string, resolution: Resolution, signal: AbortSignal): Promise<void> {
    await this.#put(
      eventId,
      `event#${eventId}`,
      { status: s(Status.Completed), resolution: s(JSON.stringify(resolution)) },
      signal,
    );
  }

  async completeMany(completions: readonly Completion[], signal: AbortSignal): Promise<string[]> {
    return this.#batchWrite('completeMany', this.#completionEntries(completions), signal);
  }

  async confirmTargets(
    confirmations: readonly ConfirmationEntry[],
    signal: AbortSignal,
  ): Promise<string[]> {
    return this.#batchWrite('confirmTargets', this.#confirmationEntries(confirmations), signal);
  }

  async completeAndConfirm(
    completions: readonly Completion[],
    confirmations: readonly ConfirmationEntry[],
    signal: AbortSignal,
  ): Promise<{ eventIds: string[]; targetKeys: string[] }> {
    // Named by kind: an eventId and a target key may be spelled alike.
    const unwritten = await this.#batchWrite(
      'completeAndConfirm',
      [
        ...this.#completionEntries(completions).map((e) => ({ ...e, name: `event#${e.name}` })),
        ...this.#confirmationEntries(confirmations).map((e) => ({
          ...e,
          name: `target#${e.name}`,
        })),
      ],
      signal,
    );
    const of = (prefix: string) =>
      unwritten.filter((name) => name.startsWith(prefix)).map((name) => name.slice(prefix.length));
    return { eventIds: of('event#'), targetKeys: of('target#') };
  }

  /** The item `complete` writes, unconditionally: a BatchWriteItem carries no condition, and `complete` has none. */
  #completionEntries(completions: readonly Completion[]) {
    return completions.map(({ eventId, resolution }) => ({
      name: eventId,
      item: {
        id: s(`event#${eventId}`),
        status: s(Status.Completed),
        resolution: s(JSON.stringify(resolution)),
        expiration: n(this.#expiration()),
      },
    }));
  }

  /** The item `confirmTarget` writes, the latest per target, without its condition (see the port). */
  #confirmationEntries(confirmations: readonly ConfirmationEntry[]) {
    const latest = new Map<string, TargetConfirmation>();
    for (const { targetKey, confirmation } of confirmations) {
      const known = latest.get(targetKey);
      if (!known || known.confirmedAt < confirmation.confirmedAt)
        latest.set(targetKey, confirmation);
    }
    return [...latest].map(([targetKey, confirmation]) => ({
      name: targetKey,
      item: {
        id: s(`target#${targetKey}`),
        confirmedAt: n(confirmation.confirmedAt),
        eventId: s(confirmation.eventId),
        expiration: n(this.#expiration()),
      },
    }));
  }

  /**
   * Puts items with `BatchWriteItem`, 25 a request and at most `BATCH_WRITE_MAX_BYTES`, sending
   * unprocessed items again; returns the names of the items not written.
   * @throws {IdempotencyStoreError} when no request got through.
   */
  async #batchWrite(
    operation: string,
    entries: readonly { name: string; item: Item }[],
    signal: AbortSignal,
  ): Promise<string[]> {
    const requests = entries.map((entry) => ({
      ...entry,
      bytes: JSON.stringify(entry.item).length,
    }));
    const chunks = chunked(
      requests,
      (chunk, next) =>
        chunk.length < BATCH_WRITE_MAX_ITEMS &&
        chunk.reduce((sum, r) => sum + r.bytes, next.bytes) <= BATCH_WRITE_MAX_BYTES,
    );
    const errors: unknown[] = [];
    const unwritten = await Promise.all(
      chunks.map(async (chunk) => {
        const byId = new Map(chunk.map((r) => [r.item.id?.S as string, r.name]));
        let pending = chunk.map((r) => ({ PutRequest: { Item: r.item } }));
        try {
          for (let round = 0; pending.length > 0 && round <= UNPROCESSED_ROUNDS; round += 1) {
            if (round > 0) await pause(UNPROCESSED_FIRST_PAUSE_MS * 2 ** (round - 1), signal);
            const output = await this.#call(operation, undefined, () =>
              this.#client.send(
                new BatchWriteItemCommand({ RequestItems: { [this.#table]: pending } }),
                { abortSignal: signal },
              ),
            );
            pending = (output.UnprocessedItems?.[this.#table] ?? []).flatMap((request) =>
              request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : [],
            );
          }
        } catch (error) {
          errors.push(error);
        }
        return pending.map((request) => byId.get(request.PutRequest.Item.id?.S as string) ?? '');
      }),
    );
    if (chunks.length > 0 && errors.length === chunks.length) throw errors[0];
    return unwritten.flat();
  }

  async readMany(
    keys: { eventIds: readonly string[]; targetKeys: readonly string[] },
    signal: AbortSignal,
  ): Promise<StoreSnapshot> {
    const ids = [
      ...new Set([
        ...keys.eventIds.map((eventId) => `event#${eventId}`),
        ...keys.targetKeys.map((targetKey) => `target#${targetKey}`),
      ]),
    ];
    const found = new Map<string, Item>();
    const nowSec = Math.floor(this.#clock() / 1000);
    await Promise.all(
      chunked(ids, (chunk) => chunk.length < BATCH_GET_MAX_KEYS).map(async (chunk) => {
        let pending: Item[] = chunk.map((id) => ({ id: s(id) }));
        for (let round = 0; pending.length > 0; round += 1) {
          if (round > UNPROCESSED_ROUNDS)
            throw new IdempotencyStoreError(
              `DynamoDB readMany on ${this.#table} failed: ${pending.length} keys still unprocessed after ${UNPROCESSED_ROUNDS} retries`,
              { kind: FailureKind.Throttled, code: 'UnprocessedKeys' },
              { table: this.#table },
            );
          if (round > 0) await pause(UNPROCESSED_FIRST_PAUSE_MS * 2 ** (round - 1), signal);
          const keysNow = pending;
          const output = await this.#call('readMany', undefined, () =>
            this.#client.send(
              new BatchGetItemCommand({
                RequestItems: {
                  [this.#table]: {
                    Keys: keysNow,
                    ConsistentRead: true,
                    // Only what the snapshot needs: a completed decision's resolution stays put.
                    ProjectionExpression: 'id, #status, expiration, confirmedAt, eventId',
                    ExpressionAttributeNames: { '#status': 'status' },
                  },
                },
              }),
              { abortSignal: signal },
            ),
          );
          for (const item of output.Responses?.[this.#table] ?? []) {
            const expiration = num(item, 'expiration');
            const id = str(item, 'id');
            if (id !== undefined && (expiration === undefined || expiration >= nowSec))
              found.set(id, item);
          }
          pending = output.UnprocessedKeys?.[this.#table]?.Keys ?? [];
        }
      }),
    );
    const completed = new Set(
      keys.eventIds.filter(
        (eventId) => str(found.get(`event#${eventId}`), 'status') === Status.Completed,
      ),
    );
    const held = new Set(keys.eventIds.filter((eventId) => found.has(`event#${eventId}`)));
    const confirmations = new Map<string, TargetConfirmation | undefined>();
    for (const targetKey of keys.targetKeys) {
      const item = found.get(`target#${targetKey}`);
      const confirmedAt = num(item, 'confirmedAt');
      const eventId = str(item, 'eventId');
      confirmations.set(
        targetKey,
        confirmedAt !== undefined && eventId !== undefined ? { confirmedAt, eventId } : undefined,
      );
    }
    return { completed, held, confirmations };
  }

  async release(eventId: string, owner: string, signal: AbortSignal): Promise<void> {
    // Ends the lease and keeps the item: a resolution kept for the return must survive (a
    // takeover that found one and gave it back must not delete it).
    try {
      await this.#call('release', eventId, () =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: { id: s(`event#${eventId}`) },
            UpdateExpression: 'SET leaseUntil = :ended',
            ConditionExpression: '#owner = :owner AND #status <> :completed',
            ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
            ExpressionAttributeValues: {
              ':ended': n(0),
              ':owner': s(owner),
              ':completed': s(Status.Completed),
            },
          }),
          { abortSignal: signal },
        ),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error; // not ours (any more), or completed
    }
  }

  async forget(eventId: string, signal: AbortSignal): Promise<void> {
    await this.#call('forget', eventId, () =>
      this.#client.send(
        new DeleteItemCommand({ TableName: this.#table, Key: { id: s(`event#${eventId}`) } }),
        { abortSignal: signal },
      ),
    );
  }

  async getTargetConfirmation(
    targetKey: string,
    signal: AbortSignal,
  ): Promise<TargetConfirmation | undefined> {
    const item = await this.#get(`target#${targetKey}`, undefined, signal);
    const confirmedAt = num(item, 'confirmedAt');
    const eventId = str(item, 'eventId');
    return confirmedAt !== undefined && eventId !== undefined
      ? { confirmedAt, eventId }
      : undefined;
  }

  async confirmTarget(
    targetKey: string,
    confirmation: TargetConfirmation,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      await this.#call('confirmTarget', confirmation.eventId, () =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: {
              id: s(`target#${targetKey}`),
              confirmedAt: n(confirmation.confirmedAt),
              eventId: s(confirmation.eventId),
              expiration: n(this.#expiration()),
            },
            ConditionExpression: 'attribute_not_exists(id) OR confirmedAt < :confirmedAt',
            ExpressionAttributeValues: { ':confirmedAt': n(confirmation.confirmedAt) },
          }),
          { abortSignal: signal },
        ),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error; // a later confirmation is already recorded
    }
  }

  async markQuarantined(
    messageId: string,
    stage: QuarantineStage,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#put(undefined, `quarantine#${messageId}`, { stage: s(stage) }, signal);
  }

  async quarantineStage(
    messageId: string,
    signal: AbortSignal,
  ): Promise<QuarantineStage | undefined> {
    const item = await this.#get(`quarantine#${messageId}`, undefined, signal);
    if (!item) return undefined;
    // Items written before stages existed meant "copied".
    return str(item, 'stage') === 'settled' ? 'settled' : 'copied';
  }

  reserveRevocations(
    requests: readonly ReservationRequest[],
    limit: BreakerLimit,
    signal: AbortSignal,
  ): Promise<ReserveResult[]> {
    return reserveRevocations(this.#breakerTable, requests, limit, signal);
  }

  releaseRevocation(bucket: string, signal: AbortSignal): Promise<void> {
    return releaseRevocation(this.#breakerTable, bucket, signal);
  }

  readBreaker(signal: AbortSignal): Promise<BreakerState> {
    return readBreakerState(this.#breakerTable, signal);
  }

  closeBreaker(signal: AbortSignal): Promise<BreakerOpening | undefined> {
    return closeBreakerRecord(this.#breakerTable, signal);
  }

  get #breakerTable() {
    return { client: this.#client, tableName: this.#table };
  }

  /** Writes an item; a conditional write whose condition fails is a no-op. */
  async #put(
    eventId: string | undefined,
    id: string,
    attributes: Item,
    signal: AbortSignal,
    condition?: Pick<
      PutItemCommandInput,
      'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<void> {
    try {
      await this.#call('put', eventId, () =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: { id: s(id), ...attributes, expiration: n(this.#expiration()) },
            ...condition,
          }),
          { abortSignal: signal },
        ),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
    }
  }

  /** Reads an item, treating one past its expiration as absent. */
  async #get(
    id: string,
    eventId: string | undefined,
    signal: AbortSignal,
  ): Promise<Item | undefined> {
    const output = await this.#call('get', eventId, () =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: { id: s(id) }, ConsistentRead: true }),
        { abortSignal: signal },
      ),
    );
    const expiration = num(output.Item, 'expiration');
    if (!output.Item || (expiration !== undefined && expiration < Math.floor(this.#clock() / 1000)))
      return undefined;
    return output.Item;
  }

  async #call<T>(
    operation: string,
    eventId: string | undefined,
    call: () => Promise<T>,
  ): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (isConditionalFailure(error)) throw error;
      throw new IdempotencyStoreError(
        `DynamoDB ${operation} on ${this.#table} failed: ${messageOf(error)}`,
        failureDetailsOf(error),
        eventId === undefined ? { table: this.#table } : { eventId, table: this.#table },
        { cause: error },
      );
    }
  }
}

const parseResolution = (json: string | undefined): Resolution | undefined => {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as Resolution;
  } catch {
    return undefined;
  }
};
