import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type Clock, systemClock } from '../core/deadline.js';
import { IdempotencyStoreError } from '../core/errors.js';
import type {
  ClaimResult,
  IdempotencyStore,
  QuarantineStage,
  Resolution,
  TargetConfirmation,
} from '../worker/ports.js';
import { failureDetailsOf, messageOf } from './aws-error.js';

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
 * `target#<target>` (when a target was last confirmed revoked) and `quarantine#<messageId>`.
 * TTL deletion lags by up to days, so every read also checks `expiration` itself.
 */
export class DynamoDbIdempotencyStore implements IdempotencyStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #ttlSeconds: number;
  readonly #clock: Clock;

  constructor(options: {
    client: DynamoDBClient;
    tableName: string;
    ttlSeconds: number;
    clock?: Clock;
  }) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#ttlSeconds = options.ttlSeconds;
    this.#clock = options.clock ?? systemClock;
  }

  #expiration(): number {
    return Math.floor(this.#clock() / 1000) + this.#ttlSeconds;
  }

  async claim(eventId: string, leaseUntil: number): Promise<ClaimResult> {
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
                'SET #status = :inProgress, leaseUntil = :lease, expiration = :exp REMOVE resolution',
              ConditionExpression: 'attribute_not_exists(id) OR expiration < :nowSec',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':inProgress': s(Status.InProgress),
                ':lease': n(leaseUntil),
                ':exp': n(this.#expiration()),
                ':nowSec': n(Math.floor(now / 1000)),
              },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
        return { status: 'acquired' };
      } catch (error) {
        if (!isConditionalFailure(error)) throw error;
        const existing = error.Item ?? (await this.#get(`event#${eventId}`, eventId));
        if (!existing) continue; // released in between: try again
        const status = str(existing, 'status');
        const resolution = parseResolution(str(existing, 'resolution'));
        if (status === Status.Completed && resolution) return { status: 'completed', resolution };
        const heldUntil = num(existing, 'leaseUntil') ?? 0;
        if (heldUntil > now) return { status: 'in-progress', leaseUntil: heldUntil };
        // The owner's lease ran out (it crashed or timed out): take the decision over.
        const taken = await this.#takeOver(key, eventId, heldUntil, leaseUntil);
        if (taken)
          return resolution && status === Status.Resolved
            ? { status: 'acquired', resolution }
            : { status: 'acquired' };
      }
    }
    return { status: 'in-progress', leaseUntil };
  }

  async #takeOver(
    key: Item,
    eventId: string,
    expiredLease: number,
    leaseUntil: number,
  ): Promise<boolean> {
    try {
      await this.#call('claim', eventId, () =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: key,
            UpdateExpression: 'SET leaseUntil = :lease',
            ConditionExpression: 'leaseUntil = :expired AND #status <> :completed',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':lease': n(leaseUntil),
              ':expired': n(expiredLease),
              ':completed': s(Status.Completed),
            },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async resolve(eventId: string, resolution: Resolution, leaseUntil: number): Promise<void> {
    await this.#put(eventId, `event#${eventId}`, {
      status: s(Status.Resolved),
      resolution: s(JSON.stringify(resolution)),
      leaseUntil: n(leaseUntil),
    });
  }

  async complete(eventId: string, resolution: Resolution): Promise<void> {
    await this.#put(eventId, `event#${eventId}`, {
      status: s(Status.Completed),
      resolution: s(JSON.stringify(resolution)),
    });
  }

  async release(eventId: string): Promise<void> {
    await this.#call('release', eventId, () =>
      this.#client.send(
        new DeleteItemCommand({ TableName: this.#table, Key: { id: s(`event#${eventId}`) } }),
      ),
    );
  }

  async getTargetConfirmation(targetKey: string): Promise<TargetConfirmation | undefined> {
    const item = await this.#get(`target#${targetKey}`, undefined);
    const confirmedAt = num(item, 'confirmedAt');
    const eventId = str(item, 'eventId');
    return confirmedAt !== undefined && eventId !== undefined
      ? { confirmedAt, eventId }
      : undefined;
  }

  async confirmTarget(targetKey: string, confirmation: TargetConfirmation): Promise<void> {
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
        ),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error; // a later confirmation is already recorded
    }
  }

  async markQuarantined(messageId: string, stage: QuarantineStage): Promise<void> {
    await this.#put(undefined, `quarantine#${messageId}`, { stage: s(stage) });
  }

  async quarantineStage(messageId: string): Promise<QuarantineStage | undefined> {
    const item = await this.#get(`quarantine#${messageId}`, undefined);
    if (!item) return undefined;
    // Items written before stages existed meant "copied".
    return str(item, 'stage') === 'settled' ? 'settled' : 'copied';
  }

  async #put(eventId: string | undefined, id: string, attributes: Item): Promise<void> {
    await this.#call('put', eventId, () =>
      this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: { id: s(id), ...attributes, expiration: n(this.#expiration()) },
        }),
      ),
    );
  }

  /** Reads an item, treating one past its expiration as absent. */
  async #get(id: string, eventId: string | undefined): Promise<Item | undefined> {
    const output = await this.#call('get', eventId, () =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: { id: s(id) }, ConsistentRead: true }),
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
