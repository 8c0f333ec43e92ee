import * as v from 'valibot';
import type { AdminRoutes } from '../http.js';
import { expecting, isoDateTime, parseOrThrow, strictObject } from '../validation.js';
import { RedshiftApiError } from './errors.js';
import type { RedshiftFaultsPatch } from './faults.js';
import type { RedshiftEmulator } from './redshift-emulator.js';
import type { SeedFile } from './seed-file.js';

/**
 * The admin routes, on the emulator's own port, so a CLI or another process can drive it:
 * - `GET  /__emulator/state`  — datashares, associations, current faults;
 * - `GET  /__emulator/calls`  — every recorded call and the stats;
 * - `POST /__emulator/faults` — a JSON faults patch (same shape as `setFaults`), answers the faults;
 * - `POST /__emulator/seed`   — a JSON seed file: replaces the datashares;
 * - `POST /__emulator/associate` — `{dataShareArn, consumer, accountId?, at?}`: associates a
 *   consumer (namespace ARN, `region:<r>`, `account:<id>`) again, dated `at` (ISO, default now),
 *   answers the datashare;
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
    // Both setters validate (valibot); a bad body is a TypeError, answered 400.
    emulator.seed(body as SeedFile);
    return { datashares: emulator.datashares().length };
  },
  'POST /__emulator/associate': (body) => {
    const request = associateRequest(body);
    try {
      return {
        datashare: emulator.associate(request.dataShareArn, request.consumer, {
          ...(request.accountId !== undefined && { accountId: request.accountId }),
          ...(request.at !== undefined && { at: new Date(request.at) }),
        }),
      };
    } catch (error) {
      // An unknown datashare is the caller's mistake: a 400 naming it, not a server error.
      if (error instanceof RedshiftApiError)
        throw new TypeError(`${error.code}: ${error.message}`, { cause: error });
      throw error;
    }
  },
  'POST /__emulator/reset': () => {
    emulator.reset();
    return { ok: true };
  },
});

const AssociateRequestSchema = strictObject({
  dataShareArn: v.pipe(v.string(), v.minLength(1)),
  consumer: v.pipe(v.string(), v.minLength(1)),
  accountId: v.optional(
    v.pipe(v.string(), v.regex(/^\d{12}$/, expecting('a 12-digit account id'))),
  ),
  at: v.optional(isoDateTime()),
});

/**
 * Validates the body of `POST /__emulator/associate`.
 *
 * @throws {TypeError} naming each offending field (answered 400).
 */
const associateRequest = (body: unknown): v.InferOutput<typeof AssociateRequestSchema> =>
  parseOrThrow(AssociateRequestSchema, body, 'associate request');
