import { Agent } from 'node:http';
import {
  type AdminRoutes,
  isAdminRequest,
  serveAdminRoute,
  startLocalHttpServer,
} from '../http.js';
import { randomSeed } from '../random.js';
import { faultProxyAdminRoutes, PROXY_ADMIN_PREFIX } from './admin-routes.js';
import { ProxyFaultPlan, type ProxyFaults, type ProxyFaultsPatch } from './faults.js';
import { createProxyHandler } from './proxy-handler.js';
import { PROXIED_SERVICES, type ProxiedService } from './service-errors.js';
import {
  type FaultProxyStats,
  InjectionJournal,
  ProxyCounters,
  type ProxyInjection,
} from './stats.js';

export interface FaultProxyOptions {
  /** Which service's error shapes to answer with. */
  service: ProxiedService;
  /** Where calls are forwarded: `http://127.0.0.1:PORT` of dynalite or fauxqs. */
  upstream: string;
  faults?: ProxyFaultsPatch;
  /** PRNG seed for random faults; a random one is chosen (and exposed) when absent. */
  seed?: number;
  /** 0 (default) picks a free port. */
  port?: number;
}

/** A running fault-injecting reverse proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`: give it as `endpoint` or `AWS_ENDPOINT_URL_<SERVICE>`. */
  readonly endpoint: string;
  readonly port: number;
  readonly service: ProxiedService;
  /** The upstream's address: the fault-free path. */
  readonly upstream: string;
  /** The PRNG seed in use: pass it back as `seed` to replay a run. */
  readonly randomSeed: number;
  readonly faults: ProxyFaults;
  /** Changes faults while running; a given `failNext` replaces the list. */
  setFaults(patch: ProxyFaultsPatch): ProxyFaults;
  stats(): FaultProxyStats;
  /**
   * Every injected fault in order (at most the latest 200,000), with the DynamoDB item the call
   * named: a test can tell which write did not happen, or whose answer was lost.
   */
  injections(): readonly ProxyInjection[];
  /** Back to the start faults, the PRNG at its seed, counters and injections cleared. */
  reset(): void;
  /** Stops listening, ends hung calls and closes the connections to the upstream. */
  stop(): Promise<void>;
}

/**
 * Starts an HTTP reverse proxy on 127.0.0.1 in front of a DynamoDB or SQS emulator, injecting the
 * faults the emulator cannot: the service's throttling error, 5xx, latency, hangs, connection
 * resets, and lost answers (the call takes effect upstream; the client sees a failure).
 *
 * @example
 * const proxy = await startFaultProxy({ service: 'dynamodb', upstream: dynaliteEndpoint, seed: 1 });
 * proxy.setFaults({ failNext: [{ kind: 'error', when: 'after', operations: ['PutItem'] }] });
 * const client = new DynamoDBClient({ endpoint: proxy.endpoint, region: 'us-east-1' });
 * // ... PutItem fails with a 500, and the item is in the table
 * await proxy.stop();
 *
 * @throws {TypeError} when the service, the upstream or the faults are invalid.
 */
export const startFaultProxy = async (options: FaultProxyOptions): Promise<FaultProxy> => {
  const { service } = options;
  if (!(PROXIED_SERVICES as readonly string[]).includes(service)) {
    throw new TypeError(
      `fault proxy: service must be one of ${PROXIED_SERVICES.join(', ')}, '${String(service)}' given`,
    );
  }
  let upstream: URL;
  try {
    upstream = new URL(options.upstream);
  } catch (error) {
    throw new TypeError(`fault proxy: upstream must be an http URL, '${options.upstream}' given`, {
      cause: error,
    });
  }
  const label = `${service} fault proxy`;
  const seed = options.seed ?? randomSeed();
  const startFaults = options.faults ?? {};
  const faults = new ProxyFaultPlan(startFaults, seed, label);
  const counters = new ProxyCounters();
  const journal = new InjectionJournal();
  const agent = new Agent({ keepAlive: true });
  const handler = createProxyHandler({ service, upstream, agent, faults, counters, journal });
  let routes: AdminRoutes = {};
  const server = await startLocalHttpServer(
    (request, response, signal) =>
      isAdminRequest(request, PROXY_ADMIN_PREFIX)
        ? serveAdminRoute(request, response, routes)
        : handler(request, response, signal),
    options.port ?? 0,
  );

  const proxy: FaultProxy = {
    endpoint: server.endpoint,
    port: server.port,
    service,
    upstream: upstream.origin,
    randomSeed: seed,
    get faults() {
      return faults.current;
    },
    setFaults: (patch) => faults.update(patch),
    stats: () => counters.stats(),
    injections: () => journal.list(),
    reset: () => {
      faults.reset(startFaults);
      counters.clear();
      journal.clear();
    },
    stop: async () => {
      // Closing aborts the calls in flight (their upstream requests share the signal) first.
      await server.close();
      agent.destroy();
    },
  };
  routes = faultProxyAdminRoutes(proxy);
  return proxy;
};
