import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type BreakerLimit,
  type BreakerOpening,
  type BreakerState,
  decideReservations,
  type ReservationRequest,
  withoutReservation,
} from '../core/breaker.js';
import { type Clock, systemClock } from '../core/deadline.js';
import { IdempotencyStoreError } from '../core/errors.js';
import type {
  ClaimResult,
  IdempotencyStore,
  Lease,
  QuarantineStage,
  ReserveResult,
  Resolution,
  TargetConfirmation,
} from '../worker/ports.js';
import { failureDetailsOf, messageOf } from './aws-error.js';
import { closeBreakerRecord, readBreakerState, updateBreakerRecord } from './breaker-record.js';
import { retentionUntil, type StoreRetention } from './retention.js';

/** Decision item states. */
const Status = { InProgress: 'IN_PROGRESS', Resolved: 'RESOLVED', Completed: 'COMPLETED' } as const;

/** How many times a claim re-reads after losing a race before calling the decision busy. */
const CLAIM_ROUNDS = 3;

type Item = Record<string, AttributeValue>;

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const num = (item: Item | undefined, name: string): number | undefined =>
  item?.[name]?.N === undefined ? undefined : Number(item[name].N);
const str = (item: Item | undefined, name: string): string | undefined => item?.[name]?.S;

const isConditionalFailure = (error: unknown): error is Error & { Item?: Item } =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/**
 * `IdempotencyStore` on a DynamoDB table with partition key `id` (S) and TTL on `expiration`
 * (epoch seconds). One table holds three kinds of item, told apart by the key's prefix:
 * `event#<eventId>` (a decision: IN_PROGRESS → RESOLVED → COMPLETED, with a lease),
 * `target#<target>` (when a target was last confirmed revoked) and `quarantine#<messageId>`,
 * plus the breaker's one record (`breaker#revocations`, see `breaker-record.ts`).
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

  async claim(eventId: string, lease: Lease, signal: AbortSignal): Promise<ClaimResult> {
    const key = { id: s(`event#${eventId}`) };
    for (let round = 0; round < CLAIM_ROUNDS; round += 1) {
      const now = this.#clock();
      try {
        await this.#call('claim', eventId, () =>
          this.#client.send(
            new UpdateItemCommand({
              TableName: this.#table,
              Key: key,
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
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
            { abortSignal: signal },
          ),
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

  async reserveRevocations(
    requests: readonly ReservationRequest[],
    limit: BreakerLimit,
    signal: AbortSignal,
  ): Promise<ReserveResult[]> {
    return updateBreakerRecord(this.#breakerTable, signal, (current) => {
      const { state, changed, outcomes } = decideReservations(current, requests, limit);
      return { next: changed ? state : undefined, result: outcomes };
    });
  }

  async releaseRevocation(reservationId: string, signal: AbortSignal): Promise<void> {
    await updateBreakerRecord(this.#breakerTable, signal, (current) => ({
      next: withoutReservation(current, reservationId),
      result: undefined,
    }));
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
