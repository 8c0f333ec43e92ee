import {
  type AdminRoutes,
  isAdminRequest,
  serveAdminRoute,
  startLocalHttpServer,
} from '../http.js';
import { randomSeed } from '../random.js';
import { eventBridgeAdminRoutes } from './admin-routes.js';
import { DEFAULT_MAX_ENTRY_BYTES } from './entry-validation.js';
import { type EventBridgeStats, EventLog } from './event-log.js';
import {
  EventBridgeFaultPlan,
  type EventBridgeFaults,
  type EventBridgeFaultsPatch,
} from './faults.js';
import { createPutEventsHandler } from './put-events-handler.js';
import type { AcceptedEvent, EventEnvelope, EventRule } from './types.js';

export interface EventBridgeEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** PRNG seed for random faults; a random one is chosen (and exposed) when absent. */
  seed?: number;
  faults?: EventBridgeFaultsPatch;
  /** The buses that exist; `default` always does. */
  eventBuses?: string[];
  /**
   * What an entry for an unknown bus gets. `accept` (default) is what AWS does: an EventId, and
   * the event goes nowhere (recorded here with `busExists: false`). `reject` answers the entry
   * `ResourceNotFoundException`, to catch a misconfigured bus in tests.
   */
  unknownEventBus?: 'accept' | 'reject';
  /** Per-entry size limit (default 256 KiB, the API reference's figure). */
  maxEntryBytes?: number;
  /** Limit on the summed entry sizes of one call (default 256 KiB). */
  maxRequestBytes?: number;
  /** The envelope's `account` of delivered events (default 000000000000). */
  accountId?: string;
  /** The envelope's `region` of delivered events (default us-east-1). */
  region?: string;
}

/** A running EventBridge PutEvents emulator. */
export interface EventBridgeEmulator {
  /** `http://127.0.0.1:PORT`: give it as `endpoint` or `AWS_ENDPOINT_URL_EVENTBRIDGE`. */
  readonly endpoint: string;
  readonly port: number;
  readonly randomSeed: number;
  readonly eventBuses: readonly string[];
  /** Accepted events in arrival order (all buses). */
  readonly events: readonly AcceptedEvent[];
  readonly faults: EventBridgeFaults;
  /** Accepted events of one bus. */
  eventsOn(eventBusName: string): AcceptedEvent[];
  /**
   * Adds a rule: every event accepted on its bus from now on whose source it lists is delivered
   * to its target, as EventBridge would (synchronously here). Returns the rule's removal.
   */
  addRule(rule: EventRule): () => void;
  /** Changes faults while running; a given list replaces the list. */
  setFaults(patch: EventBridgeFaultsPatch): EventBridgeFaults;
  stats(): EventBridgeStats;
  /** Forgets events and counters. */
  clear(): void;
  /** `clear()`, plus the start faults and the PRNG back at its seed. */
  reset(): void;
  /** Stops the server and ends hung requests. */
  stop(): Promise<void>;
}

/**
 * Starts an EventBridge PutEvents emulator (awsJson1_1) on 127.0.0.1. The real
 * `@aws-sdk/client-eventbridge` works against it.
 *
 * @example
 * const events = await startEventBridgeEmulator({ eventBuses: ['revoker-audit'] });
 * const client = new EventBridgeClient({ endpoint: events.endpoint, region: 'us-east-1' });
 * // ...
 * expect(events.eventsOn('revoker-audit')).toHaveLength(1);
 * await events.stop();
 *
 * @throws {TypeError} when the faults are invalid.
 */
export const startEventBridgeEmulator = async (
  options: EventBridgeEmulatorOptions = {},
): Promise<EventBridgeEmulator> => {
  const randomSeedValue = options.seed ?? randomSeed();
  const startFaults = options.faults ?? {};
  const eventBuses = [...new Set(['default', ...(options.eventBuses ?? [])])];
  const log = new EventLog();
  const faults = new EventBridgeFaultPlan(startFaults, randomSeedValue);
  const handler = createPutEventsHandler({
    log,
    faults,
    limits: {
      maxEntryBytes: options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES,
      maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_ENTRY_BYTES,
    },
    busExists: (name) => eventBuses.includes(name),
    unknownEventBus: options.unknownEventBus ?? 'accept',
  });
  let routes: AdminRoutes = {};
  const server = await startLocalHttpServer(
    (request, response, signal) =>
      isAdminRequest(request)
        ? serveAdminRoute(request, response, routes)
        : handler(request, response, signal),
    options.port ?? 0,
  );

  const envelopeOf = (event: AcceptedEvent): EventEnvelope => ({
    version: '0',
    id: event.eventId,
    'detail-type': event.detailType,
    source: event.source,
    account: options.accountId ?? '000000000000',
    time: event.time,
    region: options.region ?? 'us-east-1',
    resources: event.resources,
    detail: event.detail,
  });

  const emulator: EventBridgeEmulator = {
    endpoint: server.endpoint,
    port: server.port,
    randomSeed: randomSeedValue,
    eventBuses,
    get events() {
      return log.events;
    },
    get faults() {
      return faults.current;
    },
    eventsOn: (name) => log.events.filter((e) => e.eventBusName === name),
    addRule: (rule) =>
      log.onAccepted((event) => {
        if (event.eventBusName === rule.eventBusName && rule.sources.includes(event.source)) {
          rule.deliver(envelopeOf(event));
        }
      }),
    setFaults: (patch) => faults.update(patch),
    stats: () => log.stats(),
    clear: () => log.clear(),
    reset: () => {
      log.clear();
      faults.reset(startFaults);
    },
    stop: () => server.close(),
  };
  routes = eventBridgeAdminRoutes(emulator);
  return emulator;
};
