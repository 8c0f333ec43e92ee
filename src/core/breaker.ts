/**
 * The breaker for runaway policy engines, as pure rules over one record (kept by the idempotency
 * store, shared by every container): at most `maxRevocations` disassociate calls are reserved in
 * any `windowSeconds`; the reservation that would be one more opens the breaker instead, and an
 * open breaker refuses every reservation until an operator closes it (`revoker resume`).
 *
 * A reservation is taken before the Redshift call and given back when the call did not revoke
 * (ALREADY_REVOKED, a failure, no time): so the count is of revocations made or in flight, and
 * the breaker opens exactly when the N+1th would happen. A reservation whose answer was lost (or
 * whose holder died) stays counted until it leaves the window: the count errs high, never low.
 */

/** `BREAKER_MAX_REVOCATIONS` and `BREAKER_WINDOW_SECONDS`. */
export interface BreakerLimit {
  maxRevocations: number;
  windowSeconds: number;
}

/** Largest `BREAKER_MAX_REVOCATIONS`: the window's reservations live in one item (≤ 400 KB). */
export const BREAKER_MAX_REVOCATIONS_LIMIT = 5_000;

/** One disassociate call counted by the breaker. */
export interface Reservation {
  /** Unique per call; a retried reservation with the same id is recognised, not counted twice. */
  id: string;
  /** Epoch ms. */
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
  /** Epoch ms of the oldest of them. */
  firstRevocationAt: number | null;
  maxRevocations: number;
  windowSeconds: number;
  trippedBy: BreakerTrigger;
}

/** The shared record. */
export interface BreakerState {
  /** Reservations, oldest first (those outside the window are pruned on every write). */
  reservations: Reservation[];
  /** Set while the breaker is open. */
  open?: BreakerOpening;
}

export const emptyBreakerState = (): BreakerState => ({ reservations: [] });

export type ReservationDecision =
  /** Go ahead with the call; `state` is what to write (unchanged when already reserved). */
  | { kind: 'reserved'; state: BreakerState; changed: boolean; revocationsInWindow: number }
  /** The call would be one too many: `state` opens the breaker (this caller opened it). */
  | { kind: 'opened'; state: BreakerState; opening: BreakerOpening }
  /** Open already: no call, nothing to write. */
  | { kind: 'open'; opening: BreakerOpening };

const inWindow = (reservations: Reservation[], limit: BreakerLimit, now: number): Reservation[] =>
  reservations.filter((r) => r.at > now - limit.windowSeconds * 1000);

/**
 * Decides one reservation against the current record.
 *
 * @example
 * decideReservation(emptyBreakerState(), { id: 'a', at: now }, { maxRevocations: 1, windowSeconds: 60 }, trigger)
 * // → { kind: 'reserved', revocationsInWindow: 1, ... }
 */
export const decideReservation = (
  current: BreakerState,
  reservation: Reservation,
  limit: BreakerLimit,
  trigger: BreakerTrigger,
): ReservationDecision => {
  if (current.open) return { kind: 'open', opening: current.open };
  const recent = inWindow(current.reservations, limit, reservation.at);
  if (recent.some((r) => r.id === reservation.id))
    return { kind: 'reserved', state: current, changed: false, revocationsInWindow: recent.length };
  if (recent.length < limit.maxRevocations) {
    const reservations = [...recent, reservation];
    return {
      kind: 'reserved',
      state: { reservations },
      changed: true,
      revocationsInWindow: reservations.length,
    };
  }
  const opening: BreakerOpening = {
    openedAt: reservation.at,
    revocationsInWindow: recent.length,
    firstRevocationAt: recent[0]?.at ?? null,
    maxRevocations: limit.maxRevocations,
    windowSeconds: limit.windowSeconds,
    trippedBy: trigger,
  };
  return { kind: 'opened', state: { reservations: recent, open: opening }, opening };
};

/** One call to count, and the decision it is for (named if it opens the breaker). */
export interface ReservationRequest {
  reservation: Reservation;
  trigger: BreakerTrigger;
}

export type ReservationOutcome =
  | { status: 'reserved'; revocationsInWindow: number }
  | { status: 'open'; opening: BreakerOpening; openedNow: boolean };

/**
 * Decides several reservations in order against one record (one write for all): the first that
 * would be one too many opens the breaker, and every later one finds it open.
 */
export const decideReservations = (
  current: BreakerState,
  requests: readonly ReservationRequest[],
  limit: BreakerLimit,
): { state: BreakerState; changed: boolean; outcomes: ReservationOutcome[] } => {
  let state = current;
  let changed = false;
  const outcomes = requests.map(({ reservation, trigger }): ReservationOutcome => {
    const decision = decideReservation(state, reservation, limit, trigger);
    if (decision.kind === 'open')
      return { status: 'open', opening: decision.opening, openedNow: false };
    state = decision.state;
    if (decision.kind === 'opened') {
      changed = true;
      return { status: 'open', opening: decision.opening, openedNow: true };
    }
    changed ||= decision.changed;
    return { status: 'reserved', revocationsInWindow: decision.revocationsInWindow };
  });
  return { state, changed, outcomes };
};

/** The record without one reservation (its call did not revoke); undefined when it is not there. */
export const withoutReservation = (current: BreakerState, id: string): BreakerState | undefined =>
  current.reservations.some((r) => r.id === id)
    ? { ...current, reservations: current.reservations.filter((r) => r.id !== id) }
    : undefined;

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

/** The record as the operator sees it at `now`. */
export const viewBreaker = (
  state: BreakerState,
  windowSeconds: number | undefined,
  now: number,
): BreakerView => ({
  open: state.open !== undefined,
  opening: state.open ?? null,
  revocationsInWindow:
    windowSeconds === undefined
      ? state.reservations.length
      : state.reservations.filter((r) => r.at > now - windowSeconds * 1000).length,
});

/** Parses the record as the store keeps it (JSON); a malformed one is treated as open, to be safe. */
export const parseBreakerState = (json: string | undefined): BreakerState => {
  if (json === undefined) return emptyBreakerState();
  try {
    const parsed = JSON.parse(json) as BreakerState;
    if (!Array.isArray(parsed.reservations)) throw new TypeError('reservations is not an array');
    return parsed;
  } catch (error) {
    return {
      reservations: [],
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
    };
  }
};
