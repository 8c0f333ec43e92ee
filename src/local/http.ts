import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A request handler of a local emulator. `signal` aborts when the server stops, so a handler
 * that sleeps (injected latency) or never answers (injected hang) lets go of the event loop.
 */
export type EmulatorRequestHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  signal: AbortSignal,
) => Promise<void>;

/** A running node:http server bound to 127.0.0.1. */
export interface LocalHttpServer {
  /** `http://127.0.0.1:PORT`, ready for an SDK `endpoint` or `AWS_ENDPOINT_URL_*`. */
  readonly endpoint: string;
  readonly port: number;
  /** Stops listening and destroys every open socket, including those of unanswered requests. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1 (port 0 = ephemeral) that tracks its sockets, so `close()`
 * also ends keep-alive connections and requests that an emulator deliberately never answers.
 *
 * @example
 * const server = await startLocalHttpServer(async (req, res) => { res.end('ok'); });
 * await server.close();
 */
export const startLocalHttpServer = async (
  handler: EmulatorRequestHandler,
  port = 0,
): Promise<LocalHttpServer> => {
  const lifetime = new AbortController();
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    handler(request, response, lifetime.signal).catch((error: unknown) => {
      // A handler bug must not crash the test process: answer 500 and keep serving.
      if (lifetime.signal.aborted || response.headersSent) return;
      sendText(response, 500, 'text/plain', `emulator error: ${String(error)}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    port: bound,
    close: async () => {
      if (lifetime.signal.aborted) return;
      lifetime.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
};

/** Reads the whole request body (the emulators' bodies are small: 256 KiB is AWS's own cap). */
export const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** Writes a complete response with the headers AWS services send on every answer. */
export const sendText = (
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  requestId: string = randomUUID(),
): void => {
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
  });
  response.end(body);
};

/** Answers an admin route with JSON. */
export const sendJson = (response: ServerResponse, status: number, value: unknown): void =>
  sendText(response, status, 'application/json', JSON.stringify(value, null, 2));

/**
 * Destroys the connection with a TCP RST and no response, which the SDK's node handler reports
 * as `ECONNRESET` — the transient network error a real endpoint produces under load.
 */
export const resetConnection = (request: IncomingMessage): void => {
  request.socket.resetAndDestroy();
};

/** Resolves after `ms`, or at once (without rejecting) when `signal` aborts. */
export const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

/** Where the emulators' admin routes live, on the same port as the emulated API. */
export const ADMIN_PREFIX = '/__emulator/';

/**
 * Admin routes by `"<METHOD> <path>"`, e.g. `"POST /__emulator/faults"`. A route gets the parsed
 * JSON body (undefined when empty) and returns what is answered as JSON; a `TypeError` it throws
 * (a validation failure) is answered 400 with its message.
 */
export type AdminRoutes = Record<string, (body: unknown) => unknown>;

/** Whether a request is for the admin routes (the fault proxy passes its own `/__proxy/`). */
export const isAdminRequest = (request: IncomingMessage, prefix: string = ADMIN_PREFIX): boolean =>
  (request.url ?? '').startsWith(prefix);

/** Serves one admin request: 404 for an unknown route, 400 for bad JSON or a rejected value. */
export const serveAdminRoute = async (
  request: IncomingMessage,
  response: ServerResponse,
  routes: AdminRoutes,
): Promise<void> => {
  const path = new URL(request.url ?? '/', 'http://emulator').pathname;
  const route = routes[`${request.method ?? 'GET'} ${path}`];
  const text = (await readBody(request)).toString('utf8');
  if (!route) {
    sendJson(response, 404, {
      error: `No admin route ${request.method} ${path}`,
      routes: Object.keys(routes),
    });
    return;
  }
  try {
    const body: unknown = text.trim() === '' ? undefined : JSON.parse(text);
    sendJson(response, 200, route(body) ?? { ok: true });
  } catch (error) {
    const invalid = error instanceof TypeError || error instanceof SyntaxError;
    sendJson(response, invalid ? 400 : 500, { error: (error as Error).message });
  }
};
