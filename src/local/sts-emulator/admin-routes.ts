import type { AdminRoutes } from '../http.js';
import type { AccountsSeed } from './accounts-seed.js';
import type { StsFaultsPatch } from './faults.js';
import type { StsEmulator } from './sts-emulator.js';

/**
 * The admin routes, on the emulator's own port:
 * - `GET  /__emulator/state`  — hub account, roles, issued sessions, current faults, PRNG seed;
 * - `GET  /__emulator/calls`  — every recorded call and the stats (`byRole`: AssumeRole per role);
 * - `POST /__emulator/faults` — a JSON faults patch (same shape as `setFaults`);
 * - `POST /__emulator/seed`   — a JSON accounts seed: replaces the accounts and roles;
 * - `POST /__emulator/expire` — `{ "roleArn"?: string }`: the matching sessions expire now;
 * - `POST /__emulator/reset`  — back to the start seed and faults, calls and credentials cleared.
 */
export const stsAdminRoutes = (emulator: StsEmulator): AdminRoutes => ({
  'GET /__emulator/state': () => ({
    hubAccountId: emulator.hubAccountId,
    randomSeed: emulator.randomSeed,
    roles: emulator.roles(),
    sessions: emulator
      .sessions()
      .map(({ secretAccessKey: _secret, sessionToken: _token, ...rest }) => ({
        ...rest,
        expiration: new Date(rest.expiresAt).toISOString(),
      })),
    faults: emulator.faults,
  }),
  'GET /__emulator/calls': () => ({ calls: emulator.calls, stats: emulator.stats() }),
  'POST /__emulator/faults': (body) => ({
    faults: emulator.setFaults((body ?? {}) as StsFaultsPatch),
  }),
  'POST /__emulator/seed': (body) => {
    emulator.seed(body as AccountsSeed);
    return { roles: emulator.roles().length };
  },
  'POST /__emulator/expire': (body) => {
    const roleArn = (body as { roleArn?: unknown } | undefined)?.roleArn;
    if (roleArn !== undefined && typeof roleArn !== 'string') {
      throw new TypeError(`roleArn must be a role ARN string, ${JSON.stringify(roleArn)} given`);
    }
    return { expired: emulator.expireCredentials(roleArn) };
  },
  'POST /__emulator/reset': () => {
    emulator.reset();
    return { ok: true };
  },
});
