/**
 * The shared pace of each Redshift control plane: one item per account and region in the
 * idempotency table (`id` = `pace#<account>|<region>`), updated with conditional `UpdateItem`s
 * only — no read-modify-write, so containers taking slots at once never lose a race, they only
 * take the next span. See `src/core/shared-rate.ts` for what the fields mean.
 *
 * - Taking a span of a busy schedule is one request (`slotAt = slotAt + span`, on condition it is
 *   still busy). An idle schedule starts again from now, keeping the rate it had when it went
 *   idle (on condition it is idle and nobody cut since this container looked), and one idle for
 *   `idleRestartMs` also starts a new slow start. The container guesses which from what it saw
 *   last; a wrong guess costs one more request.
 * - A cut is one request, on condition nobody cut since the throttled call was sent (the throttles
 *   of one congestion, in every container, cut once).
 * - A lost answer loses nothing but time: the span it took is skipped (the schedule errs slow).
 *
 * Also the congestion marks the containers' own gates share (`mark`, below), in the same
 * chunk: it is read at the first throttle, whether or not the shared pace is on.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { IdempotencyStoreError } from '../core/errors.js';
import {
  DEFAULT_PACE,
  freshPace,
  type PaceSettings,
  type PaceState,
  peakAfterThrottle,
  rateAfterThrottle,
  rateWhenIdle,
} from '../core/shared-rate.js';
import type { PaceRecords, PaceReservation } from '../worker/ports.js';
import { failureDetailsOf, messageOf } from './aws-error.js';

/** The item's key prefix in the idempotency table. */
export const PACE_ITEM_PREFIX = 'pace#';

/** TTL: a record nobody used for a day goes (and would start again in slow start anyway). */
const PACE_TTL_SECONDS = 86_400;

/** Conditional writes tried before giving up (the caller then paces alone). */
const ROUNDS = 3;

const n = (value: number): AttributeValue => ({ N: String(value) });

const isConditionalFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

const stateOf = (item: Record<string, AttributeValue> | undefined): PaceState | undefined => {
  const slotAt = Number(item?.slotAt?.N);
  const rate = Number(item?.rate?.N);
  const since = Number(item?.since?.N);
  const cuts = Number(item?.cuts?.N);
  const peak = Number(item?.peak?.N ?? 0);
  const cutAt = Number(item?.cutAt?.N ?? 0);
  return [slotAt, rate, since, cuts, peak, cutAt].every(Number.isFinite) && rate > 0
    ? { slotAt, rate, since, cuts, peak, cutAt }
    : undefined;
};

/** A failed request on a record of this module, named by what it did (`what`). */
const storeError = (what: string, tableName: string, error: unknown): IdempotencyStoreError =>
  new IdempotencyStoreError(
    `DynamoDB ${what} on ${tableName} failed: ${messageOf(error)}`,
    failureDetailsOf(error),
    { table: tableName },
    { cause: error },
  );

type Path = 'extend' | 'start' | 'restart';

export class DynamoDbPaceRecords implements PaceRecords {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #settings: PaceSettings;

  constructor(options: { client: DynamoDBClient; tableName: string; settings?: PaceSettings }) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#settings = options.settings ?? DEFAULT_PACE;
  }

  get settings(): PaceSettings {
    return this.#settings;
  }

  async reserve(
    key: string,
    request: { spanMs: number; now: number; known: PaceState | undefined },
    signal: AbortSignal,
  ): Promise<PaceReservation> {
    const { spanMs, now } = request;
    let known = request.known;
    for (let round = 0; round < ROUNDS; round += 1) {
      const path: Path =
        known === undefined || known.slotAt < now - this.#settings.idleRestartMs
          ? 'restart'
          : known.slotAt >= now
            ? 'extend'
            : 'start';
      try {
        const state = await this.#write(key, path, spanMs, now, known, signal);
        return { start: state.slotAt - spanMs, state };
      } catch (error) {
        if (!isConditionalFailure(error)) throw this.#error('reservation', key, error);
        // The schedule was not as we last saw it: look, then take the right path.
        known = await this.#read(key, signal);
      }
    }
    throw new IdempotencyStoreError(
      `The shared pace of ${key} on ${this.#tableName} changed under ${ROUNDS} writes in a row`,
      { kind: 'transient', code: 'PaceContention' },
      { table: this.#tableName },
    );
  }

  async cut(
    key: string,
    request: { sentAt: number; now: number; known: PaceState },
    signal: AbortSignal,
  ): Promise<PaceState | undefined> {
    const rate = rateAfterThrottle(request.known, request.sentAt, this.#settings);
    const peak = peakAfterThrottle(request.known, request.sentAt, this.#settings);
    try {
      const output = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: { id: { S: PACE_ITEM_PREFIX + key } },
          UpdateExpression:
            'SET rate = :rate, peak = :peak, since = :now, cutAt = :now, cuts = if_not_exists(cuts, :zero) + :one, expiration = :exp',
          ConditionExpression:
            'attribute_exists(since) AND (attribute_not_exists(cutAt) OR cutAt < :cutAfter)',
          ExpressionAttributeValues: {
            ':rate': n(rate),
            ':peak': n(peak),
            ':now': n(request.now),
            ':zero': n(0),
            ':one': n(1),
            ':cutAfter': n(request.sentAt - this.#settings.cutGraceMs),
            ':exp': n(Math.floor(request.now / 1000) + PACE_TTL_SECONDS),
          },
          ReturnValues: 'ALL_NEW',
        }),
        { abortSignal: signal },
      );
      return stateOf(output.Attributes);
    } catch (error) {
      // Cut (or started) since that call was booked, or just before: the same congestion.
      if (isConditionalFailure(error)) return undefined;
      throw this.#error('cut', key, error);
    }
  }

  async #write(
    key: string,
    path: Path,
    spanMs: number,
    now: number,
    known: PaceState | undefined,
    signal: AbortSignal,
  ): Promise<PaceState> {
    const exp = n(Math.floor(now / 1000) + PACE_TTL_SECONDS);
    const idleBefore = now - this.#settings.idleRestartMs;
    const common = {
      TableName: this.#tableName,
      Key: { id: { S: PACE_ITEM_PREFIX + key } },
      ReturnValues: 'ALL_NEW' as const,
    };
    let command: UpdateItemCommand;
    if (path === 'extend') {
      command = new UpdateItemCommand({
        ...common,
        UpdateExpression: 'SET slotAt = slotAt + :span, expiration = :exp',
        ConditionExpression: 'slotAt >= :now',
        ExpressionAttributeValues: { ':span': n(spanMs), ':now': n(now), ':exp': exp },
      });
    } else if (path === 'start' && known !== undefined) {
      // The rate stood still while the schedule was idle: it resumes from where it was then.
      command = new UpdateItemCommand({
        ...common,
        UpdateExpression: 'SET slotAt = :end, rate = :rate, since = :now, expiration = :exp',
        ConditionExpression:
          'slotAt < :now AND slotAt >= :idleBefore AND since = :knownSince AND rate = :knownRate',
        ExpressionAttributeValues: {
          ':end': n(now + spanMs),
          ':rate': n(rateWhenIdle(known, this.#settings)),
          ':now': n(now),
          ':idleBefore': n(idleBefore),
          ':knownSince': n(known.since),
          ':knownRate': n(known.rate),
          ':exp': exp,
        },
      });
    } else {
      const fresh = freshPace(now, this.#settings, known?.rate);
      command = new UpdateItemCommand({
        ...common,
        UpdateExpression:
          'SET slotAt = :end, rate = :rate, since = :now, cuts = :zero, peak = :zero, cutAt = :zero, expiration = :exp',
        ConditionExpression: 'attribute_not_exists(slotAt) OR slotAt < :idleBefore',
        ExpressionAttributeValues: {
          ':end': n(now + spanMs),
          ':rate': n(fresh.rate),
          ':now': n(now),
          ':zero': n(0),
          ':idleBefore': n(idleBefore),
          ':exp': exp,
        },
      });
    }
    const output = await this.#client.send(command, { abortSignal: signal });
    const state = stateOf(output.Attributes);
    if (state === undefined) {
      throw new IdempotencyStoreError(
        `The shared pace of ${key} on ${this.#tableName} came back incomplete`,
        { kind: 'transient', code: 'PaceRecordInvalid' },
        { table: this.#tableName },
      );
    }
    return state;
  }

  async #read(key: string, signal: AbortSignal): Promise<PaceState | undefined> {
    try {
      const output = await this.#client.send(
        new GetItemCommand({
          TableName: this.#tableName,
          Key: { id: { S: PACE_ITEM_PREFIX + key } },
          ConsistentRead: true,
        }),
        { abortSignal: signal },
      );
      return stateOf(output.Item);
    } catch (error) {
      throw this.#error('read', key, error);
    }
  }

  #error(operation: string, key: string, error: unknown): IdempotencyStoreError {
    return storeError(`${operation} of the shared pace of ${key}`, this.#tableName, error);
  }
}

/** The congestion marks' key prefix in the idempotency table. */
export const CONGESTION_ITEM_PREFIX = 'congestion#';

/**
 * Marks a congestion of control plane `key` (`CongestionMarks.mark`): the congestion marks shared
 * by every container's own gate, one item per account and region (`id` =
 * `congestion#<account>|<region>`) holding the time of the last throttle a container answered
 * with a full cut. One conditional `UpdateItem` per throttle, on condition that no mark is younger
 * than the window: the first container to see a congestion takes it; the others, throttled by the
 * same empty bucket a moment later, find its mark (`src/worker/redshift-gate.ts`, `#onThrottled`). The
 * gate reads a lost answer, or any failure, as "first": it cuts in full, as it would alone.
 * Containers' clocks differ by milliseconds (Lambda's are NTP-synchronised); the window is 250 ms.
 *
 * @throws {IdempotencyStoreError}
 */
export const mark = async (
  table: { client: DynamoDBClient; tableName: string },
  key: string,
  request: { now: number; windowMs: number },
  signal: AbortSignal,
): Promise<boolean> => {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: { id: { S: CONGESTION_ITEM_PREFIX + key } },
        UpdateExpression: 'SET markedAt = :now, expiration = :exp',
        ConditionExpression: 'attribute_not_exists(markedAt) OR markedAt <= :before',
        ExpressionAttributeValues: {
          ':now': n(request.now),
          ':before': n(request.now - request.windowMs),
          ':exp': n(Math.floor(request.now / 1000) + PACE_TTL_SECONDS),
        },
      }),
      { abortSignal: signal },
    );
    return true;
  } catch (error) {
    if (isConditionalFailure(error)) return false;
    throw storeError(`mark of a congestion of ${key}`, table.tableName, error);
  }
};
