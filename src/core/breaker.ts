/**
 * The breaker for runaway policy engines, as pure rules over one record (kept by the idempotency
 * store, shared by every container): at most `maxRevocations` disassociate calls are reserved in
 * any `windowSeconds`; the reservation that would be one more opens the breaker instead, and an
 * open breaker refuses every reservation until an operator closes it (`revoker resume`).
 *
 * A reservation is taken before the Redshift call and given back when the call did not revoke
 * (ALREADY_REVOKED, a failure, no time): so the count is of revocations made or in flight, and
 * the breaker opens when the N+1th would happen. A reservation whose answer was lost (or whose
 * holder died) stays counted until it leaves the window: the count errs high, never low.
 *
 * The record counts reservations per bucket of the window (`BUCKETS_PER_WINDOW` of them), not one
 * entry per call: its size stays under 3 KB whatever the limit (at most 122 buckets kept between
 * two full writes), and a reservation is one atomic add to its bucket (the store's fast path,
 * `src/adapters/breaker-record.ts`) rather than a read and a rewrite of every reservation in the
 * window. A bucket counts until its end leaves the window, so the count covers at most one bucket
 * (1/60 of the window) more than the window: it errs high, by that much at most.
 */

/** `BREAKER_MAX_REVOCATIONS` and `BREAKER_WINDOW_SECONDS`. */
export interface BreakerLimit {
  maxRevocations: number;
  windowSeconds: number;
}

/**
 * Largest `BREAKER_MAX_REVOCATIONS` (the record's older form, one entry per call, had to fit one
 * item; the bound stays, as the deployed configuration and its checks know it).
 */
export const BREAKER_MAX_REVOCATIONS_LIMIT = 5_000;

/** How many buckets a window is counted in: the count errs high by one bucket at most. */
export const BUCKETS_PER_WINDOW = 60;

/** No bucket is narrower (a one-second window still rolls at most ten times a second). */
const MIN_BUCKET_MS = 100;

/** One disassociate call to count. */
export interface Reservation {
  /** Epoch ms: the bucket it is counted in. */
  at: number;
}

/** The decision whose call would have been one too many. */
export interface BreakerTrigger {
  eventId: string;
  /** The target's key (`targetKey`). */
  target: string;
  dataShareArn: string;
  policyId: string;
  messageId: string;
}

/** Why and when the breaker opened. */
export interface BreakerOpening {
  /** Epoch ms. */
  openedAt: number;
  /** Reservations in the window when it opened (= `maxRevocations`). */
  revocationsInWindow: number;
  /** Epoch ms: the start of the oldest bucket counted (the first of them was made in it). */
  firstRevocationAt: number | null;
  maxRevocations: number;
  windowSeconds: number;
  trippedBy: BreakerTrigger;
}

/**
 * The shared record. `counts` maps a bucket's key (`bucketOf`: `<start>:<width>`, epoch ms) to
 * the reservations counted in it; buckets wholly outside the window are dropped on every full
 * write.
 */
export interface BreakerState {
  counts: Record<string, number>;
  /** Set while the breaker is open. */
  open?: BreakerOpening;
}

export const emptyBreakerState = (): BreakerState => ({ counts: {} });

/** A bucket's width for a limit: 1/60 of the window, at least `MIN_BUCKET_MS`. */
export const bucketWidthMs = (limit: BreakerLimit): number =>
  Math.max(MIN_BUCKET_MS, Math.ceil((limit.windowSeconds * 1000) / BUCKETS_PER_WINDOW));

/**
 * The key of the bucket a reservation at `at` is counted in. It carries the bucket's width, so
 * that a record written under another window (a changed `BREAKER_WINDOW_SECONDS`, or the record's
 * older form, one entry per call: width 0) is still read right.
 *
 * @example
 * bucketOf(Date.parse('2026-11-29T12:00:03.5Z'), { maxRevocations: 100, windowSeconds: 300 })
 * // → '1795953600000:5000' (the 5-second bucket that starts at 12:00:00)
 */
export const bucketOf = (at: number, limit: BreakerLimit): string => {
  const width = bucketWidthMs(limit);
  return `${Math.floor(at / width) * width}:${width}`;
};

const bucketSpan = (key: string): { start: number; end: number } => {
  const [start = Number.NaN, width = 0] = key.split(':').map(Number);
  return { start, end: start + width };
};

/** Whether a bucket may hold a reservation made in the `windowSeconds` before `now`. */
const isLive = (key: string, windowSeconds: number, now: number): boolean =>
  // A bucket whose key cannot be read counts (errs high) until the breaker is closed.
  !(bucketSpan(key).end <= now - windowSeconds * 1000);

/** The buckets still in the window at `now` (the others are dropped). */
export const liveCounts = (
  counts: Readonly<Record<string, number>>,
  windowSeconds: number,
  now: number,
): Record<string, number> =>
  Object.fromEntries(
    Object.entries(counts).filter(([key, n]) => n > 0 && isLive(key, windowSeconds, now)),
  );

/** Reservations counted in a record's buckets. */
export const totalOf = (counts: Readonly<Record<string, number>>): number =>
  Object.values(counts).reduce((sum, n) => sum + n, 0);

/** The start of the oldest bucket that holds a reservation (the first revocation is in it). */
const oldestOf = (counts: Readonly<Record<string, number>>): number | null => {
  const starts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([key]) => bucketSpan(key).start)
    .filter(Number.isFinite);
  return starts.length === 0 ? null : Math.min(...starts);
};

/** One call to count, and the decision it is for (named if it opens the breaker). */
export interface ReservationRequest {
  reservation: Reservation;
  trigger: BreakerTrigger;
}

export type ReservationOutcome =
  /** `bucket`: where it was counted, to give it back (`withoutReservation`). */
  | { status: 'reserved'; revocationsInWindow: number; bucket: string }
  | { status: 'open'; opening: BreakerOpening; openedNow: boolean };

/**
 * Decides several reservations in order against one record (one write for all): the first that
 * would be one too many opens the breaker, and every later one finds it open. Buckets outside the
 * window at `now` (and empty ones) are dropped.
 *
 * @example
 * decideReservations(emptyBreakerState(), [{ reservation: { at: now }, trigger }], { maxRevocations: 1, windowSeconds: 60 }, now)
 * // → outcomes [{ status: 'reserved', revocationsInWindow: 1, bucket: '…' }], changed true
 */
export const decideReservations = (
  current: BreakerState,
  requests: readonly ReservationRequest[],
  limit: BreakerLimit,
  now: number,
): { state: BreakerState; changed: boolean; outcomes: ReservationOutcome[] } => {
  if (current.open) {
    const opening = current.open;
    return {
      state: current,
      changed: false,
      outcomes: requests.map(() => ({ status: 'open', opening, openedNow: false })),
    };
  }
  const counts = liveCounts(current.counts, limit.windowSeconds, now);
  let total = totalOf(counts);
  let open: BreakerOpening | undefined;
  const outcomes = requests.map(({ reservation, trigger }): ReservationOutcome => {
    if (open) return { status: 'open', opening: open, openedNow: false };
    if (total < limit.maxRevocations) {
      const bucket = bucketOf(reservation.at, limit);
      counts[bucket] = (counts[bucket] ?? 0) + 1;
      total += 1;
      return { status: 'reserved', revocationsInWindow: total, bucket };
    }
    open = {
      openedAt: reservation.at,
      revocationsInWindow: total,
      firstRevocationAt: oldestOf(counts),
      maxRevocations: limit.maxRevocations,
      windowSeconds: limit.windowSeconds,
      trippedBy: trigger,
    };
    return { status: 'open', opening: open, openedNow: true };
  });
  return { state: { counts, ...(open && { open }) }, changed: requests.length > 0, outcomes };
};

/** The record without one reservation of `bucket` (its call did not revoke); undefined when none is there. */
export const withoutReservation = (
  current: BreakerState,
  bucket: string,
): BreakerState | undefined => {
  const n = current.counts[bucket] ?? 0;
  return n > 0 ? { ...current, counts: { ...current.counts, [bucket]: n - 1 } } : undefined;
};

/**
 * The record once an operator closed the breaker: closed, and a new window — the revocations
 * before it no longer count (otherwise the next reservation would open it again at once).
 */
export const closedBreakerState = (): BreakerState => emptyBreakerState();

/** What `revoker status` shows. */
export interface BreakerView {
  open: boolean;
  opening: BreakerOpening | null;
  /** Reservations in the window at `now` (only meaningful with the limit's window). */
  revocationsInWindow: number;
}

/**
 * The window the buckets were cut for, when nobody says (`revoker status` of a closed breaker):
 * 60 of the widest bucket (at least the window: a bucket is never narrower than 1/60 of it).
 * Undefined for the older form's entries (width 0).
 */
const windowOfBuckets = (counts: Readonly<Record<string, number>>): number | undefined => {
  const widths = Object.keys(counts)
    .map((key) => {
      const { start, end } = bucketSpan(key);
      return end - start;
    })
    .filter(Number.isFinite);
  const widest = Math.max(0, ...widths);
  return widest > 0 ? (widest * BUCKETS_PER_WINDOW) / 1000 : undefined;
};

/**
 * The record as the operator sees it at `now`: the reservations in `windowSeconds` (or in the
 * window the buckets were cut for), never the buckets a full write has not dropped yet.
 */
export const viewBreaker = (
  state: BreakerState,
  windowSeconds: number | undefined,
  now: number,
): BreakerView => {
  const window = windowSeconds ?? windowOfBuckets(state.counts);
  return {
    open: state.open !== undefined,
    opening: state.open ?? null,
    revocationsInWindow: totalOf(
      window === undefined ? state.counts : liveCounts(state.counts, window, now),
    ),
  };
};

/** A record that cannot be read counts as open (fail closed), saying why. */
const unreadable = (error: unknown): BreakerState => ({
  counts: {},
  open: {
    openedAt: 0,
    revocationsInWindow: 0,
    firstRevocationAt: null,
    maxRevocations: 0,
    windowSeconds: 0,
    trippedBy: {
      eventId: `unreadable breaker record: ${error instanceof Error ? error.message : String(error)}`,
      target: '',
      dataShareArn: '',
      policyId: '',
      messageId: '',
    },
  },
});

/**
 * The record from what the store keeps: the buckets' counts and, while open, the opening (JSON).
 * Anything malformed is treated as open, to be safe.
 */
export const breakerStateOf = (
  counts: Readonly<Record<string, number>>,
  openingJson: string | undefined,
): BreakerState => {
  if (Object.values(counts).some((n) => !Number.isSafeInteger(n)))
    return unreadable(new TypeError('a bucket count is not a whole number'));
  if (openingJson === undefined) return { counts: { ...counts } };
  try {
    const open = JSON.parse(openingJson) as BreakerOpening;
    if (typeof open?.openedAt !== 'number' || typeof open.trippedBy !== 'object')
      throw new TypeError('the opening has no openedAt or trippedBy');
    return { counts: { ...counts }, open };
  } catch (error) {
    return unreadable(error);
  }
};

/**
 * Parses the record's older form (JSON: one `{id, at}` per reservation, and the opening): each
 * reservation becomes a bucket of its own instant (width 0), so that nothing counted is lost when
 * a new worker meets a record an older one wrote. Malformed is treated as open, to be safe.
 */
export const parseLegacyBreakerState = (json: string | undefined): BreakerState => {
  if (json === undefined) return emptyBreakerState();
  try {
    const parsed = JSON.parse(json) as { reservations?: unknown; open?: BreakerOpening };
    if (!Array.isArray(parsed.reservations)) throw new TypeError('reservations is not an array');
    const counts: Record<string, number> = {};
    for (const reservation of parsed.reservations as { at?: unknown }[]) {
      if (typeof reservation?.at !== 'number') throw new TypeError('a reservation has no at');
      const key = `${reservation.at}:0`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return { counts, ...(parsed.open && { open: parsed.open }) };
  } catch (error) {
    return unreadable(error);
  }
};

/**
 * What the record's older form must say to a worker of the previous version still running during
 * a deploy: the opening, so that it holds its calls while the breaker is open. Its reservations
 * are not repeated there (see the README's Guardrails, "Upgrading").
 */
export const legacyMirrorOf = (state: BreakerState): string =>
  JSON.stringify({ reservations: [], ...(state.open && { open: state.open }) });
