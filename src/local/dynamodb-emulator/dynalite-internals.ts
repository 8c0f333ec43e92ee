import type { Server } from 'node:http';
import { createRequire } from 'node:module';

/**
 * Typed handles on dynalite 4's CommonJS modules (it ships no declarations): its server factory,
 * and the internals `TransactWriteItems` reuses — the store, key and condition helpers, request
 * validations and single-item actions — so a transaction parses, checks and updates items exactly
 * as dynalite's own `UpdateItem`, `PutItem` and `DeleteItem` do. Only what we call is typed.
 */

/** An item (or a key) as dynalite stores it: attribute name → AttributeValue. */
export type StoredItem = Record<string, Record<string, unknown>>;

/** dynalite's error: the HTTP status and JSON body it answers (validation, not found, …). */
export interface DynaliteError extends Error {
  statusCode?: number;
  body?: { __type: string; message?: string };
}

export type Callback<T = unknown> = (error?: DynaliteError | null, value?: T) => void;

/** The `lock` package's release: wraps a callback so that calling it first releases the lock. */
export type Release = (done?: (...args: unknown[]) => void) => (...args: unknown[]) => void;

export type ItemDbOperation =
  | { type: 'put'; key: string; value: StoredItem }
  | { type: 'del'; key: string };

/** One table's items, keyed by `db.createKey`, with the per-key lock every item action takes. */
export interface ItemDb {
  lock(key: string, exec: (release: Release) => void): void;
  /** Answers an error named `NotFoundError` when the item is absent. */
  get(key: string, callback: Callback<StoredItem>): void;
  put(key: string, item: StoredItem, callback: Callback): void;
  del(key: string, callback: Callback): void;
  batch(operations: ItemDbOperation[], callback: Callback): void;
}

export interface TableDescription {
  TableName: string;
  GlobalSecondaryIndexes?: unknown[];
  LocalSecondaryIndexes?: unknown[];
}

/** What `db.create` returns: the in-memory LevelDB behind one dynalite server. */
export interface DynaliteStore {
  options: { maxItemSize: number };
  /** Answers ResourceNotFoundException (as a DynaliteError) for an absent or CREATING table. */
  getTable(name: string, callback: Callback<TableDescription>): void;
  getItemDb(name: string): ItemDb;
}

export interface DynaliteOptions {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  maxItemSizeKb?: number;
}

/** A request's fields after dynalite's validations, with the parsed expressions they attach. */
export type ValidatedRequest = Record<string, unknown> & {
  TableName: string;
  Key?: StoredItem;
  Item?: StoredItem;
  _condition?: unknown;
  _updates?: unknown;
};

interface DynaliteDb {
  create(options: DynaliteOptions): DynaliteStore;
  validateKey(key: StoredItem, table: TableDescription): DynaliteError | undefined;
  validateItem(item: StoredItem, table: TableDescription): DynaliteError | undefined;
  validateUpdates(
    attributeUpdates: undefined,
    updates: unknown,
    table: TableDescription,
  ): DynaliteError | undefined;
  createKey(keyOrItem: StoredItem, table: TableDescription): string;
  checkConditional(
    request: ValidatedRequest,
    existing: StoredItem | undefined,
  ): DynaliteError | null | undefined;
  itemSize(item: StoredItem): number;
  validationError(message: string): DynaliteError;
}

/** A field's type and constraints in dynalite's validation tables. */
export type FieldSpec = string | { type: string; [constraint: string]: unknown };

export interface ActionValidation {
  types: Record<string, FieldSpec>;
  /** Answers a ValidationException message, or nothing; parses the request's expressions. */
  custom(request: ValidatedRequest, store: DynaliteStore): string | undefined;
}

interface DynaliteValidations {
  /** Drops unknown fields and throws SerializationException for a wrong JSON type. */
  checkTypes(request: unknown, types: Record<string, FieldSpec>): Record<string, unknown>;
  /** Throws ValidationException: constraints (up to 10, with their path), then `custom`. */
  checkValidations(
    request: Record<string, unknown>,
    types: Record<string, FieldSpec>,
    custom: ActionValidation['custom'] | undefined,
    store: DynaliteStore,
  ): void;
}

export type ItemAction = (
  store: DynaliteStore,
  request: ValidatedRequest,
  callback: Callback,
) => void;

const load = createRequire(import.meta.url);

export const dynalite = load('dynalite') as (options: DynaliteOptions) => Server;
/** The same cached module dynalite's index requires: `create` is looked up at each call. */
export const dynaliteDb = load('dynalite/db') as DynaliteDb;
export const dynaliteValidations = load('dynalite/validations') as DynaliteValidations;

export const itemActions = {
  Put: load('dynalite/actions/putItem') as ItemAction,
  Update: load('dynalite/actions/updateItem') as ItemAction,
  Delete: load('dynalite/actions/deleteItem') as ItemAction,
};

export const actionValidations = {
  Put: load('dynalite/validations/putItem') as ActionValidation,
  Update: load('dynalite/validations/updateItem') as ActionValidation,
  Delete: load('dynalite/validations/deleteItem') as ActionValidation,
};
