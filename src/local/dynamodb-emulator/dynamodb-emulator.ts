/**
 * The local DynamoDB: dynalite 4 (the real JSON protocol on an in-memory LevelDB), in process,
 * with `TransactWriteItems` added — dynalite answers it `UnknownOperationException`
 * (architect/dynalite#151), and the worker claims a batch's decisions in one transaction.
 *
 * Requests naming `DynamoDB_20120810.TransactWriteItems` are served here, on dynalite's own
 * server and store; every other request goes to dynalite's handler untouched. The transaction is
 * built from dynalite's parts, so it validates, evaluates conditions and applies update
 * expressions exactly as dynalite's single-item calls do, and it holds the same per-item locks
 * as they do, so it is atomic and isolated against them and against other transactions.
 *
 * What it does not do (as AWS would):
 * - `ClientRequestToken` idempotency: a retried token runs again (and may fail its conditions)
 *   instead of answering the first call's outcome; `IdempotentParameterMismatchException` never.
 * - `ReturnConsumedCapacity` and `ReturnItemCollectionMetrics`: accepted, nothing is returned.
 * - Tables with secondary indexes: refused with a ValidationException rather than half-atomic.
 * - `TransactionConflictException` and `TransactionInProgressException`: a concurrent write of
 *   the same item waits for the lock instead of failing.
 * - Expression errors in several actions: only the first action's is answered (constraint errors
 *   are all listed, up to 10, as AWS lists them).
 * - One commit across tables: each table's writes are one LevelDB batch, so a read (which takes
 *   no lock in dynalite) may see one table's part a moment before another's.
 * - `TransactGetItems`: not served (dynalite answers `UnknownOperationException`).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import {
  type DynaliteError,
  type DynaliteOptions,
  type DynaliteStore,
  dynalite,
  dynaliteDb,
} from './dynalite-internals.js';
import { transactWriteItems } from './transact-write-items.js';

export interface DynamoDbEmulator {
  /** `http://127.0.0.1:PORT`, ready for an SDK `endpoint` or `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  /** Closes the server and every connection, then dynalite's store. */
  stop(): Promise<void>;
}

const TRANSACT_WRITE_ITEMS_TARGET = 'DynamoDB_20120810.TransactWriteItems';
/** dynalite's cap on a request body (DynamoDB's is 16 MB too), answered 413. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const JSON_CONTENT_TYPES = ['application/json', 'application/x-amz-json-1.0'];

const contentTypeOf = (request: IncomingMessage) =>
  (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';

// What dynalite would refuse anyway (another method, another content type) stays dynalite's.
const isTransactWriteItems = (request: IncomingMessage) =>
  request.method === 'POST' &&
  request.headers['x-amz-target'] === TRANSACT_WRITE_ITEMS_TARGET &&
  JSON_CONTENT_TYPES.includes(contentTypeOf(request));

/** Creates dynalite's server and keeps the store it creates, which dynalite does not expose. */
const createDynalite = (options: DynaliteOptions): { server: Server; store: DynaliteStore } => {
  const create = dynaliteDb.create;
  let store: DynaliteStore | undefined;
  dynaliteDb.create = (storeOptions) => {
    store = create(storeOptions);
    return store;
  };
  try {
    const server = dynalite({ ...options });
    if (!store) throw new Error('dynalite did not create its store through dynalite/db');
    return { server, store };
  } finally {
    dynaliteDb.create = create;
  }
};

/** The body, or undefined when it passed the cap (answered 413, as dynalite does). */
const readCappedBody = (request: IncomingMessage, response: ServerResponse) =>
  new Promise<Buffer | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('error', reject);
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= MAX_REQUEST_BYTES) return void chunks.push(chunk);
      request.removeAllListeners();
      response.statusCode = 413;
      response.setHeader('Transfer-Encoding', 'chunked');
      response.end();
      resolve(undefined);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
  });

/** dynalite's answer format (`sendData`): JSON with its CRC32, in the request's content type. */
const sendData = (
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  data: unknown,
): void => {
  const body = JSON.stringify(data);
  const contentType = contentTypeOf(request);
  response.writeHead(status, {
    'x-amz-crc32': crc32(body),
    'Content-Type': contentType === 'application/x-amz-json-1.0' ? contentType : 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
};

const isDynaliteError = (error: unknown): error is Required<DynaliteError> =>
  error instanceof Error && 'statusCode' in error && 'body' in error;

const hasAuthentication = (request: IncomingMessage) => {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) return authorization.trim().startsWith('AWS4-');
  return new URL(request.url ?? '/', 'http://dynamodb').searchParams.has('X-Amz-Algorithm');
};

const serveTransactWriteItems = async (
  store: DynaliteStore,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> => {
  const body = await readCappedBody(request, response);
  if (body === undefined) return;
  // 39 random bytes make dynalite's 52-character request ids.
  response.setHeader(
    'x-amzn-RequestId',
    randomBytes(39).toString('base64').toUpperCase().replace(/\+|\//g, '0'),
  );
  if (request.headers.origin) response.setHeader('Access-Control-Allow-Origin', '*');
  let parsed: unknown;
  try {
    parsed = body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
  } catch {
    return sendData(request, response, 400, {
      __type: 'com.amazon.coral.service#SerializationException',
    });
  }
  if (!hasAuthentication(request))
    return sendData(request, response, 400, {
      __type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
      message: 'Request is missing Authentication Token',
    });
  if (parsed === undefined)
    return sendData(request, response, 400, {
      __type: 'com.amazon.coral.service#SerializationException',
    });
  try {
    await transactWriteItems(store, parsed);
    sendData(request, response, 200, {});
  } catch (error) {
    if (isDynaliteError(error)) return sendData(request, response, error.statusCode, error.body);
    sendData(request, response, 500, {
      __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
      message: `local DynamoDB emulator: ${String(error)}`,
    });
  }
};

/**
 * Starts the local DynamoDB on 127.0.0.1 (an ephemeral port): dynalite with `TransactWriteItems`.
 * Options are dynalite's (`createTableMs: 0` makes new tables ACTIVE at once).
 *
 * @example
 * const dynamo = await startDynamoDbEmulator({ createTableMs: 0 });
 * const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1' });
 * await dynamo.stop();
 *
 * @throws {Error} when the server cannot bind.
 */
export const startDynamoDbEmulator = async (
  options: DynaliteOptions = {},
): Promise<DynamoDbEmulator> => {
  const { server, store } = createDynalite(options);
  const dynaliteHandler = server.listeners('request')[0] as RequestListener;
  server.removeListener('request', dynaliteHandler);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!isTransactWriteItems(request)) return dynaliteHandler(request, response);
    serveTransactWriteItems(store, request, response).catch((error: unknown) => {
      // A bug here must not crash the process that hosts the emulator.
      if (!response.headersSent) sendData(request, response, 500, { message: String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
};
