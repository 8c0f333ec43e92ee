import type { AdminRoutes } from '../http.js';
import type { EventBridgeEmulator } from './eventbridge-emulator.js';
import type { EventBridgeFaultsPatch } from './faults.js';

/**
 * The admin routes, on the emulator's own port:
 * - `GET  /__emulator/events` — accepted events and the stats;
 * - `GET  /__emulator/state`  — buses, faults, stats;
 * - `POST /__emulator/faults` — a JSON faults patch (same shape as `setFaults`);
 * - `POST /__emulator/clear`  — forgets events and counters;
 * - `POST /__emulator/reset`  — clear, plus the start faults and the PRNG at its seed.
 */
export const eventBridgeAdminRoutes = (emulator: EventBridgeEmulator): AdminRoutes => ({
  'GET /__emulator/events': () => ({ events: emulator.events, stats: emulator.stats() }),
  'GET /__emulator/state': () => ({
    eventBuses: emulator.eventBuses,
    randomSeed: emulator.randomSeed,
    faults: emulator.faults,
    stats: emulator.stats(),
  }),
  // setFaults validates (valibot); a bad body is a TypeError, answered 400.
  'POST /__emulator/faults': (body) => ({
    faults: emulator.setFaults((body ?? {}) as EventBridgeFaultsPatch),
  }),
  'POST /__emulator/clear': () => {
    emulator.clear();
    return { ok: true };
  },
  'POST /__emulator/reset': () => {
    emulator.reset();
    return { ok: true };
  },
});
