import type { BreakerLimit, BreakerOpening, ReservationRequest } from '../core/breaker.js';
import type { Deadline } from '../core/deadline.js';
import { toError } from '../core/errors.js';
import { targetKey } from '../core/target.js';
import {
  BusyReason,
  errorSummary,
  type Invocation,
  storeCall,
  type Tracked,
  type WorkerDependencies,
} from './batch-state.js';
import {
  type AuditEntry,
  type EventSourceSwitch,
  MetricName,
  type ReserveResult,
} from './ports.js';
import type { Delivery } from './prepare.js';

// ── The breaker: at most N revocations in any window, across all containers (README, Guardrails) ──
//
// Each target's call is reserved in the store before it is made (one reservation per target,
// whatever its retries) and given back when it did not revoke. The reservation that would be one
// too many opens the breaker instead: no call, the decision is held, the mapping is disabled and
// the opener announces it once. A lost answer on a reservation errs high (it may stand, unseen,
// until it leaves the window); a store failure makes no call at all.

/** Reservations carried by one write at most (an invocation's calls, many times over). */
const MAX_RESERVATIONS_PER_WRITE = 100;

/** The breaker's settings and what a container remembers of it across invocations. */
export class Breaker {
  /** Openings (by `openedAt`) whose mapping this container has disabled: once is enough. */
  readonly #disabled = new Set<number>();

  constructor(
    readonly limit: BreakerLimit,
    /** The source queue: with the function's name, finds the mapping to disable. */
    readonly sourceQueueArn: string,
    readonly mappings: EventSourceSwitch,
  ) {}

  /** One invocation's view. */
  begin(worker: { functionName: string; awsRequestId: string }): BreakerRun {
    return new BreakerRun(this, worker);
  }

  /** @internal */
  disabled(opening: BreakerOpening): boolean {
    return this.#disabled.has(opening.openedAt);
  }

  /** @internal */
  markDisabled(opening: BreakerOpening): void {
    this.#disabled.add(opening.openedAt);
  }
}

/** What the breaker does within one invocation. */
export class BreakerRun {
  /** Set once a reservation found the breaker open. */
  opening: BreakerOpening | undefined;
  /** The opening, when this invocation opened the breaker (it announces it: `announcements`). */
  #openedNow: BreakerOpening | undefined;
  readonly #work: Promise<void>[] = [];
  readonly #waiting: {
    request: ReservationRequest;
    resolve: (result: ReserveResult) => void;
    reject: (error: unknown) => void;
  }[] = [];
  #writing = false;
  /** Reservations asked for before the claims were written (`reserveEarly`), by target. */
  readonly #early = new Map<string, Promise<ReserveResult | { status: 'error'; error: unknown }>>();

  constructor(
    readonly breaker: Breaker,
    readonly worker: { functionName: string; awsRequestId: string },
  ) {}

  /**
   * Sends the decisions held while the breaker is open back to the queue (`holdForBreaker`, in
   * `breaker-open.ts`). A method, so that the batch reaches this module only through the breaker
   * it was given: the worker imports it only when the breaker is configured.
   */
  async hold(
    tracked: readonly Tracked[],
    deps: WorkerDependencies,
    invocation: Invocation,
    fail: (deliveries: readonly Delivery[]) => void,
  ): Promise<void> {
    if (!tracked.some((t) => t.state.kind === 'held')) return;
    // Read when the breaker first holds a decision (it is open), not at cold start.
    const { holdForBreaker } = await import('./breaker-open.js');
    await holdForBreaker(tracked, deps, invocation, fail);
  }

  /** The `Breaker Opened` event, when this invocation opened the breaker (published with the audit). */
  async announcements(): Promise<AuditEntry[]> {
    const opening = this.#openedNow;
    if (opening === undefined) return [];
    const { breakerOpenedDetail, SwitchDetailType } = await import('../core/switch-events.js');
    return [
      {
        key: `breaker#${opening.openedAt}`,
        detailType: SwitchDetailType.BreakerOpened,
        detail: breakerOpenedDetail(opening, this.worker),
        resources: [opening.trippedBy.dataShareArn],
      },
    ];
  }

  /**
   * Reserves the call the target's callers would make (or takes its early reservation). Returns
   * the bucket it was counted in (what `release` gives back) when the call may go ahead; otherwise
   * sets their state (held while the breaker is open, busy when the count could not be taken) and
   * returns undefined.
   */
  async reserve(
    callers: Tracked[],
    deadline: Deadline,
    finalDeadline: Deadline,
    deps: WorkerDependencies,
  ): Promise<string | undefined> {
    const leader = callers[0] as Tracked;
    const { decision } = leader;
    const key = targetKey(decision.target);
    const early = this.#early.get(key);
    this.#early.delete(key);
    const result = await (early ?? this.#reserveFor(leader, deadline, deps));
    if (result.status === 'reserved') return result.bucket;
    if (result.status === 'error') {
      // Not counted, so not called: the count must never run behind the calls.
      const { message } = errorSummary(result.error);
      for (const member of callers)
        member.state = {
          kind: 'busy',
          why: BusyReason.StoreUnavailable,
          detail: `could not count the call against the breaker: ${message}`,
        };
      decision.deliveries[0].log.warn(
        { err: toError(result.error) },
        'could not reserve the call against the breaker; it will come back',
      );
      return undefined;
    }
    for (const member of callers) member.state = { kind: 'held', opening: result.opening };
    this.#opened(result.opening, result.openedNow, finalDeadline, deps);
    return undefined;
  }

  /**
   * Reserves now the calls the batch will most likely make — the targets of its new decisions that
   * no confirmation covers, fresh enough to need no stale check — while their claims are written:
   * the reservation's round trip is then off the path to the first call. `reserve` takes them;
   * `releaseUnused` gives back those no call took (a claim lost to another container).
   */
  reserveEarly(leaders: readonly Tracked[], deadline: Deadline, deps: WorkerDependencies): void {
    for (const leader of leaders) {
      const key = targetKey(leader.decision.target);
      if (!this.#early.has(key)) this.#early.set(key, this.#reserveFor(leader, deadline, deps));
    }
  }

  /**
   * Gives back the early reservations no call took, after the Redshift step. One that found the
   * breaker open (or opened it) counts as an opening, as in `reserve`.
   */
  async releaseUnused(
    deadline: Deadline,
    finalDeadline: Deadline,
    deps: WorkerDependencies,
  ): Promise<void> {
    const unused = [...this.#early.values()];
    this.#early.clear();
    await Promise.all(
      unused.map(async (early) => {
        const result = await early;
        if (result.status === 'reserved') await this.release(result.bucket, deadline, deps);
        else if (result.status === 'open')
          this.#opened(result.opening, result.openedNow, finalDeadline, deps);
      }),
    );
  }

  #reserveFor(
    leader: Tracked,
    deadline: Deadline,
    deps: WorkerDependencies,
  ): Promise<ReserveResult | { status: 'error'; error: unknown }> {
    const { decision } = leader;
    return this.#reserve(
      {
        reservation: { at: deps.clock() },
        trigger: {
          eventId: decision.eventId,
          target: targetKey(decision.target),
          dataShareArn: decision.request.dataShareArn,
          policyId: decision.request.policyId,
          messageId: decision.deliveries[0].record.messageId,
        },
      },
      deadline,
      deps,
    ).catch((error: unknown) => ({ status: 'error' as const, error }));
  }

  /**
   * Group commit: one store write at a time per invocation, carrying every reservation asked for
   * meanwhile (the first waits for the end of the event loop's turn, so that the targets that ask
   * together go together). The targets of a batch then never race each other for the record (only
   * other containers do), and a batch of ten targets costs one write, not ten.
   */
  #reserve(
    request: ReservationRequest,
    deadline: Deadline,
    deps: WorkerDependencies,
  ): Promise<ReserveResult> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ request, resolve, reject });
      if (this.#writing) return;
      this.#writing = true;
      // After this turn of the event loop: the batch's targets that ask together share one write.
      setImmediate(() => void this.#write(deadline, deps));
    });
  }

  async #write(deadline: Deadline, deps: WorkerDependencies): Promise<void> {
    while (this.#waiting.length > 0) {
      const group = this.#waiting.splice(0, MAX_RESERVATIONS_PER_WRITE);
      const { opening } = this;
      if (opening) {
        for (const waiter of group) waiter.resolve({ status: 'open', opening, openedNow: false });
        continue;
      }
      try {
        const results = await storeCall(deadline, (signal) =>
          deps.store.reserveRevocations(
            group.map((waiter) => waiter.request),
            this.breaker.limit,
            signal,
          ),
        );
        group.forEach((waiter, index) => {
          const result = results[index];
          if (result) waiter.resolve(result);
          else waiter.reject(new Error('the store returned no result for a reservation'));
        });
      } catch (error) {
        for (const waiter of group) waiter.reject(error);
      }
    }
    this.#writing = false;
  }

  /** Gives a reservation back when its call did not revoke. A failure leaves it counted (safe). */
  async release(bucket: string, deadline: Deadline, deps: WorkerDependencies): Promise<void> {
    await storeCall(deadline, (signal) => deps.store.releaseRevocation(bucket, signal)).catch(
      (error: unknown) =>
        deps.logger.warn(
          { err: toError(error), bucket },
          'could not give back a breaker reservation; it counts until it leaves the window',
        ),
    );
  }

  #opened(
    opening: BreakerOpening,
    openedNow: boolean,
    finalDeadline: Deadline,
    deps: WorkerDependencies,
  ): void {
    const first = this.opening === undefined;
    this.opening = opening;
    if (!first) return;
    if (openedNow) {
      deps.metrics.add(MetricName.BreakerOpened, 1);
      deps.logger.error(
        { breaker: opening },
        `breaker opened: more than ${opening.maxRevocations} revocations in ${opening.windowSeconds} s; no more Redshift calls until \`revoker resume\``,
      );
      this.#openedNow = opening;
    }
    if (this.breaker.disabled(opening)) return;
    const target = {
      functionName: this.worker.functionName,
      queueArn: this.breaker.sourceQueueArn,
    };
    this.#work.push(
      storeCall(finalDeadline, (signal) => this.breaker.mappings.setEnabled(false, target, signal))
        .then((outcome) => {
          this.breaker.markDisabled(opening);
          deps.logger.warn(
            { mappings: outcome.mappings },
            'breaker open: event source mapping disabled',
          );
        })
        .catch((error: unknown) =>
          deps.logger.error(
            { err: toError(error), ...target },
            'breaker open, but the event source mapping could not be disabled; the next invocation tries again',
          ),
        ),
    );
  }

  /** Waits for the mapping switch started by this invocation (each call bounded by the deadline). */
  async finish(): Promise<void> {
    await Promise.all(this.#work);
  }
}
