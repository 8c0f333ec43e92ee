import type { AdminRoutes } from '../http.js';
import type { FaultProxy } from './fault-proxy.js';
import type { ProxyFaultsPatch } from './faults.js';

/**
 * Where the proxy's own routes live. Not `/__emulator/`: the upstream may have routes of its own
 * there (fauxqs has `/_fauxqs/`), and every other path is forwarded.
 */
export const PROXY_ADMIN_PREFIX = '/__proxy/';

/**
 * The admin routes, on the proxy's port:
 * - `GET  /__proxy/faults` — the current faults (`failNext` shows what is left to fire);
 * - `POST /__proxy/faults` — a JSON faults patch (same shape as `setFaults`), answers the faults;
 * - `GET  /__proxy/stats`  — calls, forwarded calls and injected faults, in total and per operation;
 * - `POST /__proxy/reset`  — back to the start faults, PRNG at its seed, counters cleared.
 */
export const faultProxyAdminRoutes = (proxy: FaultProxy): AdminRoutes => ({
  'GET /__proxy/faults': () => ({
    service: proxy.service,
    randomSeed: proxy.randomSeed,
    faults: proxy.faults,
  }),
  // setFaults validates (valibot); a bad body is a TypeError, answered 400.
  'POST /__proxy/faults': (body) => ({ faults: proxy.setFaults((body ?? {}) as ProxyFaultsPatch) }),
  'GET /__proxy/stats': () => ({ service: proxy.service, stats: proxy.stats() }),
  'POST /__proxy/reset': () => {
    proxy.reset();
    return { ok: true };
  },
});
