import {
  type AdminRoutes,
  isAdminRequest,
  serveAdminRoute,
  startLocalHttpServer,
} from '../http.js';
import { createLogsHandler, MAX_PAGE_EVENTS } from './filter-log-events.js';
import { LogStore, type StoredLogEvent } from './log-store.js';

export interface LogsEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** The log groups that exist from the start. */
  logGroups?: string[];
  /** Events per `FilterLogEvents` page at most (default 10,000, AWS's cap). */
  maxPageEvents?: number;
}

/** A running CloudWatch Logs emulator. */
export interface LogsEmulator {
  /** `http://127.0.0.1:PORT`: give it as `endpoint` or `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`. */
  readonly endpoint: string;
  readonly port: number;
  /** API calls received, by `<operation> <outcome>`. */
  readonly calls: Readonly<Record<string, number>>;
  createLogGroup(name: string): void;
  /** Writes one log event, as a subscription or an EventBridge rule target would. */
  putLogEvent(
    logGroupName: string,
    event: { logStreamName: string; timestamp: number; message: string },
  ): StoredLogEvent;
  events(logGroupName: string): readonly StoredLogEvent[];
  /** Events per page from now on (1 to 10,000). */
  setMaxPageEvents(count: number): void;
  /** The next `count` calls are throttled. */
  failNextCalls(count: number): void;
  /** Forgets every event (the groups stay). */
  clear(): void;
  stop(): Promise<void>;
}

const checkPageEvents = (count: unknown): number => {
  if (
    typeof count !== 'number' ||
    !Number.isInteger(count) ||
    count < 1 ||
    count > MAX_PAGE_EVENTS
  ) {
    throw new TypeError(
      `maxPageEvents: expected an integer from 1 to ${MAX_PAGE_EVENTS}, given ${JSON.stringify(count)}`,
    );
  }
  return count;
};

/**
 * Starts a CloudWatch Logs emulator (awsJson1_1) on 127.0.0.1 serving `FilterLogEvents` and
 * `DescribeLogGroups`. Events are written in-process (`putLogEvent`): the local stack feeds it
 * from the EventBridge emulator the way the deployed audit rule (infra/audit.yml) copies each
 * audit event into the audit log group. Admin routes: `GET /__emulator/state`,
 * `GET /__emulator/events?logGroupName=...`, `POST /__emulator/faults`
 * (`{failNextCalls, maxPageEvents}`), `POST /__emulator/clear`.
 *
 * @example
 * const logs = await startLogsEmulator({ logGroups: ['/aws/events/audit'] });
 * logs.putLogEvent('/aws/events/audit', { logStreamName: 's', timestamp: Date.now(), message: '{}' });
 * await logs.stop();
 *
 * @throws {TypeError} on an invalid `maxPageEvents`.
 */
export const startLogsEmulator = async (
  options: LogsEmulatorOptions = {},
): Promise<LogsEmulator> => {
  const store = new LogStore();
  for (const name of options.logGroups ?? []) store.createLogGroup(name);
  let maxPageEvents = checkPageEvents(options.maxPageEvents ?? MAX_PAGE_EVENTS);
  const faults = { failNextCalls: 0 };
  const calls: Record<string, number> = {};
  const handler = createLogsHandler({
    store,
    maxPageEvents: () => maxPageEvents,
    faults,
    onCall: (operation, outcome) => {
      const key = `${operation} ${outcome}`;
      calls[key] = (calls[key] ?? 0) + 1;
    },
  });
  const routes: AdminRoutes = {
    'GET /__emulator/state': () => ({ logGroups: store.groupNames, calls, maxPageEvents, faults }),
    'POST /__emulator/faults': (body) => {
      const patch = (body ?? {}) as { failNextCalls?: unknown; maxPageEvents?: unknown };
      if (patch.maxPageEvents !== undefined) maxPageEvents = checkPageEvents(patch.maxPageEvents);
      if (patch.failNextCalls !== undefined) {
        if (!Number.isInteger(patch.failNextCalls) || (patch.failNextCalls as number) < 0) {
          throw new TypeError(
            `failNextCalls: expected a whole number ≥ 0, given ${JSON.stringify(patch.failNextCalls)}`,
          );
        }
        faults.failNextCalls = patch.failNextCalls as number;
      }
      return { maxPageEvents, faults };
    },
    'POST /__emulator/clear': () => {
      store.clear();
      return { ok: true };
    },
  };
  const server = await startLocalHttpServer(async (request, response) => {
    if (!isAdminRequest(request)) return handler(request, response);
    const url = new URL(request.url ?? '/', 'http://emulator');
    if (request.method === 'GET' && url.pathname === '/__emulator/events') {
      const group = url.searchParams.get('logGroupName') ?? '';
      return serveAdminRoute(request, response, {
        'GET /__emulator/events': () => ({ logGroupName: group, events: store.events(group) }),
      });
    }
    return serveAdminRoute(request, response, routes);
  }, options.port ?? 0);
  return {
    endpoint: server.endpoint,
    port: server.port,
    calls,
    createLogGroup: (name) => store.createLogGroup(name),
    putLogEvent: (group, event) => store.put(group, event),
    events: (group) => store.events(group),
    setMaxPageEvents: (count) => {
      maxPageEvents = checkPageEvents(count);
    },
    failNextCalls: (count) => {
      faults.failNextCalls = count;
    },
    clear: () => store.clear(),
    stop: () => server.close(),
  };
};
