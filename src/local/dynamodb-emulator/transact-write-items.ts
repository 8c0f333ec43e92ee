import {
  type DynaliteError,
  type DynaliteStore,
  dynaliteDb,
  type ItemDb,
  type ItemDbOperation,
  itemActions,
  type StoredItem,
  type TableDescription,
} from './dynalite-internals.js';
import { parseTransactWriteItems, type TransactActionRequest } from './transact-request.js';

/** An action with the table it names and its item's key in dynalite's store. */
interface TargetedAction extends TransactActionRequest {
  table: TableDescription;
  itemDb: ItemDb;
  key: string;
}

/** One entry of `CancellationReasons`, in the order of `TransactItems`. */
export interface CancellationReason {
  Code: 'None' | 'ConditionalCheckFailed' | 'ValidationError';
  Message?: string;
  Item?: StoredItem;
}

/** AWS's limit on the aggregate size of a transaction's items. */
const MAX_TRANSACTION_ITEMS_BYTES = 4 * 1024 * 1024;

const validationError = (message: string): DynaliteError => dynaliteDb.validationError(message);

const transactionCanceled = (reasons: CancellationReason[]): DynaliteError => {
  const codes = reasons.map((reason) => reason.Code).join(', ');
  const message = `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`;
  return Object.assign(new Error(message), {
    statusCode: 400,
    // AWS spells this one `Message`, not `message`, next to the reasons.
    body: {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      Message: message,
      CancellationReasons: reasons,
    },
  });
};

const getTable = (store: DynaliteStore, name: string) =>
  new Promise<TableDescription>((resolve, reject) =>
    store.getTable(name, (error, table) =>
      error ? reject(error) : resolve(table as TableDescription),
    ),
  );

/**
 * Finds each action's table and key, refusing what DynamoDB refuses before running anything: an
 * unknown table, a key or item that does not match the table's schema, an update of a key
 * attribute, two actions on one item.
 */
const targetActions = async (
  store: DynaliteStore,
  actions: TransactActionRequest[],
): Promise<TargetedAction[]> => {
  const tables = new Map<string, TableDescription>();
  const seen = new Set<string>();
  const targeted: TargetedAction[] = [];
  for (const action of actions) {
    const { request } = action;
    let table = tables.get(request.TableName);
    if (!table) {
      table = await getTable(store, request.TableName);
      tables.set(request.TableName, table);
    }
    // Index entries would be a second write per item that a failure could leave half done.
    if (table.GlobalSecondaryIndexes?.length || table.LocalSecondaryIndexes?.length)
      throw validationError(
        `The local DynamoDB emulator does not support TransactWriteItems on tables with secondary indexes (table ${table.TableName})`,
      );
    const keyOrItem = (action.action === 'Put' ? request.Item : request.Key) as StoredItem;
    const invalid =
      action.action === 'Put'
        ? dynaliteDb.validateItem(keyOrItem, table)
        : (dynaliteDb.validateKey(keyOrItem, table) ??
          (action.action === 'Update'
            ? dynaliteDb.validateUpdates(undefined, request._updates, table)
            : undefined));
    if (invalid) throw invalid;
    const key = dynaliteDb.createKey(keyOrItem, table);
    const item = `${table.TableName}\u0000${key}`;
    if (seen.has(item))
      throw validationError('Transaction request cannot include multiple operations on one item');
    seen.add(item);
    targeted.push({ ...action, table, itemDb: store.getItemDb(table.TableName), key });
  }
  return targeted;
};

/** Takes the item's lock, the one dynalite's own item actions take; answers its release. */
const lockItem = (itemDb: ItemDb, key: string) =>
  new Promise<() => void>((resolve) => itemDb.lock(key, (release) => resolve(release())));

/** The transaction's locks in one global order (table, then key), so two cannot deadlock. */
const lockAll = async (actions: TargetedAction[]): Promise<Array<() => void>> => {
  const ordered = [...actions].sort(
    (a, b) => compare(a.table.TableName, b.table.TableName) || compare(a.key, b.key),
  );
  const releases: Array<() => void> = [];
  for (const action of ordered) releases.push(await lockItem(action.itemDb, action.key));
  return releases;
};

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const readItem = (itemDb: ItemDb, key: string) =>
  new Promise<StoredItem | undefined>((resolve, reject) =>
    itemDb.get(key, (error, item) => {
      if (error?.name === 'NotFoundError') resolve(undefined);
      else if (error) reject(error);
      else resolve(item);
    }),
  );

const notFound = (): DynaliteError =>
  Object.assign(new Error('NotFound'), { name: 'NotFoundError' });

/**
 * Runs dynalite's own action for one item against a store that answers the item already read and
 * records the write instead of making it: dynalite's update-expression code is private, and this
 * reuses it (and its errors: type mismatches, item too large) without writing anything yet.
 */
const computeWrites = (
  store: DynaliteStore,
  action: TargetedAction,
  oldItem: StoredItem | undefined,
): Promise<ItemDbOperation[]> => {
  const name = action.action;
  if (name === 'ConditionCheck') return Promise.resolve([]);
  const writes: ItemDbOperation[] = [];
  const recordingDb: ItemDb = {
    // The real lock is already held for the whole transaction.
    lock: (_key, exec) =>
      exec(
        (done) =>
          (...args) =>
            done?.(...args),
      ),
    get: (_key, callback) => (oldItem ? callback(null, oldItem) : callback(notFound())),
    put: (key, value, callback) => {
      writes.push({ type: 'put', key, value });
      callback(null);
    },
    del: (key, callback) => {
      writes.push({ type: 'del', key });
      callback(null);
    },
    batch: (operations, callback) => {
      writes.push(...operations);
      callback(null);
    },
  };
  const recordingStore: DynaliteStore = {
    options: store.options,
    getTable: (_name, callback) => callback(null, action.table),
    getItemDb: () => recordingDb,
  };
  return new Promise((resolve, reject) =>
    itemActions[name](recordingStore, action.request, (error) =>
      error ? reject(error) : resolve(writes),
    ),
  );
};

const applyWrites = (itemDb: ItemDb, operations: ItemDbOperation[]) =>
  new Promise<void>((resolve, reject) =>
    itemDb.batch(operations, (error) => (error ? reject(error) : resolve())),
  );

const itemBytes = (writes: ItemDbOperation[]) =>
  writes.reduce(
    (sum, write) => sum + (write.type === 'put' ? dynaliteDb.itemSize(write.value) : 0),
    0,
  );

/** Cancels with ConditionalCheckFailed for each failed condition (and the item for ALL_OLD). */
const checkConditions = (actions: TargetedAction[], oldItems: (StoredItem | undefined)[]) => {
  const failed = actions.map((a, i) => dynaliteDb.checkConditional(a.request, oldItems[i]));
  if (!failed.some(Boolean)) return;
  throw transactionCanceled(
    actions.map((action, i): CancellationReason => {
      const oldItem = oldItems[i];
      if (!failed[i]) return { Code: 'None' };
      return {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        ...(action.returnOldItem && oldItem ? { Item: oldItem } : {}),
      };
    }),
  );
};

/**
 * Every action's writes, by table, none made yet; cancels with ValidationError for each action
 * dynalite refuses to apply (an operand of the wrong type, an item grown too large).
 */
const computeAllWrites = async (
  store: DynaliteStore,
  actions: TargetedAction[],
  oldItems: (StoredItem | undefined)[],
): Promise<Map<ItemDb, ItemDbOperation[]>> => {
  const outcomes = await Promise.all(
    actions.map((action, i) =>
      computeWrites(store, action, oldItems[i]).then(
        (writes) => ({ writes }),
        (error: DynaliteError) => {
          // Only dynalite's answers (a status and a body) cancel; anything else is our bug.
          if (!error.statusCode) throw error;
          return { error };
        },
      ),
    ),
  );
  if (outcomes.some((outcome) => 'error' in outcome))
    throw transactionCanceled(
      outcomes.map(
        (outcome): CancellationReason =>
          'error' in outcome
            ? {
                Code: 'ValidationError',
                Message: outcome.error.body?.message ?? outcome.error.message,
              }
            : { Code: 'None' },
      ),
    );
  const byItemDb = new Map<ItemDb, ItemDbOperation[]>();
  outcomes.forEach((outcome, i) => {
    if (!('writes' in outcome) || outcome.writes.length === 0) return;
    const { itemDb } = actions[i] as TargetedAction;
    byItemDb.set(itemDb, [...(byItemDb.get(itemDb) ?? []), ...outcome.writes]);
  });
  return byItemDb;
};

/**
 * Runs the body of a `TransactWriteItems` call on dynalite's store: all its writes or none.
 * Every item's lock is held from the first read to the last write, so dynalite's single-item
 * writes and other transactions see the transaction whole or not at all.
 *
 * @throws {DynaliteError} ValidationException, ResourceNotFoundException or
 *   TransactionCanceledException, each with the HTTP status and body DynamoDB answers.
 */
export const transactWriteItems = async (store: DynaliteStore, body: unknown): Promise<void> => {
  const actions = await targetActions(store, parseTransactWriteItems(body, store));
  const releases = await lockAll(actions);
  try {
    const oldItems = await Promise.all(actions.map((a) => readItem(a.itemDb, a.key)));
    checkConditions(actions, oldItems);
    const writes = await computeAllWrites(store, actions, oldItems);
    if (itemBytes([...writes.values()].flat()) > MAX_TRANSACTION_ITEMS_BYTES)
      throw validationError(
        'Collection size of items exceeded, which can also be caused by the aggregate size of the items in the transaction exceeding the 4MB limit',
      );
    // One batch per table: atomic within a table (the worker's claims all share one table).
    await Promise.all([...writes].map(([itemDb, operations]) => applyWrites(itemDb, operations)));
  } finally {
    for (const release of releases.reverse()) release();
  }
};
