import type { AdminRoutes } from '../http.js';
import type { RedshiftFaultsPatch } from './faults.js';
import type { RedshiftEmulator } from './redshift-emulator.js';
import type { SeedFile } from './seed-file.js';

/**
 * The admin routes, on the emulator's own port, so a CLI or another process can drive it:
 * - `GET  /__emulator/state`  — datashares, associations, current faults;
 * - `GET  /__emulator/calls`  — every recorded call and the stats;
 * - `POST /__emulator/faults` — a JSON faults patch (same shape as `setFaults`), answers the faults;
 * - `POST /__emulator/seed`   — a JSON seed file: replaces the datashares;
 * - `POST /__emulator/reset`  — back to the seed and faults given at start, calls cleared.
 */
export const redshiftAdminRoutes = (emulator: RedshiftEmulator): AdminRoutes => ({
  'GET /__emulator/state': () => ({
    consumerAccountId: emulator.consumerAccountId,
    visibility: emulator.visibility,
    crossAccountAnswer: emulator.crossAccountAnswer,
    randomSeed: emulator.randomSeed,
    datashares: emulator.datashares(),
    faults: emulator.faults,
  }),
  'GET /__emulator/calls': () => ({ calls: emulator.calls, stats: emulator.stats() }),
  'POST /__emulator/faults': (body) => ({
    faults: emulator.setFaults((body ?? {}) as RedshiftFaultsPatch),
  }),
  'POST /__emulator/seed': (body) => {
    // Both setters validate with zod; a bad body is a TypeError, answered 400.
    emulator.seed(body as SeedFile);
    return { datashares: emulator.datashares().length };
  },
  'POST /__emulator/reset': () => {
    emulator.reset();
    return { ok: true };
  },
});
