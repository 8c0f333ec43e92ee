import {
  type BreakerLimit,
  type BreakerOpening,
  type BreakerState,
  closedBreakerState,
  decideReservations,
  emptyBreakerState,
  type ReservationRequest,
  withoutReservation,
} from '../core/breaker.js';
import { type Clock, systemClock } from '../core/deadline.js';
import type {
  ClaimResult,
  Completion,
  ConfirmationEntry,
  IdempotencyStore,
  Lease,
  QuarantineStage,
  ReserveResult,
  Resolution,
  StoreSnapshot,
  TargetConfirmation,
} from '../worker/ports.js';
import { retentionUntil, type StoreRetention } from './retention.js';

type DecisionRecord =
  | { status: 'IN_PROGRESS'; lease: Lease; expiresAt: number }
  | { status: 'RESOLVED'; lease: Lease; expiresAt: number; resolution: Resolution }
  | { status: 'COMPLETED'; expiresAt: number; resolution: Resolution };

/**
 * `IdempotencyStore` in process memory: the same rules as the DynamoDB store, but per container, so
 * it deduplicates only what reaches the same container. Used when no table is configured (the
 * worker logs a warning) and by unit tests. It never fails and ignores the signals.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly decisions = new Map<string, DecisionRecord>();
  readonly targets = new Map<string, TargetConfirmation & { expiresAt: number }>();
  readonly quarantined = new Map<string, { stage: QuarantineStage; expiresAt: number }>();
  /** The breaker's record (never expires: an open breaker stays open until closed). */
  breaker: BreakerState = emptyBreakerState();
  readonly #retention: StoreRetention;
  readonly #clock: Clock;

  constructor(options: StoreRetention & { clock?: Clock }) {
    this.#retention = options;
    this.#clock = options.clock ?? systemClock;
  }

  #expiresAt(heldUntil = 0): number {
    return retentionUntil(this.#retention, this.#clock(), heldUntil);
  }

  async claim(eventId: string, lease: Lease, _signal?: AbortSignal): Promise<ClaimResult> {
    const now = this.#clock();
    const existing = this.decisions.get(eventId);
    if (!existing || existing.expiresAt < now) {
      this.decisions.set(eventId, {
        status: 'IN_PROGRESS',
        lease,
        expiresAt: this.#expiresAt(lease.until),
      });
      return { status: 'acquired' };
    }
    if (existing.status === 'COMPLETED')
      return { status: 'completed', resolution: existing.resolution };
    if (existing.lease.until > now && existing.lease.owner !== lease.owner)
      return { status: 'in-progress', leaseUntil: existing.lease.until };
    existing.lease = lease;
    existing.expiresAt = Math.max(existing.expiresAt, this.#expiresAt(lease.until));
    return existing.status === 'RESOLVED'
      ? { status: 'acquired', resolution: existing.resolution }
      : { status: 'acquired' };
  }

  async claimNew(
    eventIds: readonly string[],
    lease: Lease,
    _signal?: AbortSignal,
  ): Promise<ReadonlySet<string>> {
    const now = this.#clock();
    const unique = new Set(eventIds);
    for (const eventId of unique) {
      const existing = this.decisions.get(eventId);
      if (existing && existing.expiresAt >= now) return new Set();
    }
    // Set here, without an await between the check and the writes (not through `claim`): all or none.
    for (const eventId of unique)
      this.decisions.set(eventId, {
        status: 'IN_PROGRESS',
        lease,
        expiresAt: this.#expiresAt(lease.until),
      });
    return unique;
  }

  async resolve(eventId: string, resolution: Resolution, _signal?: AbortSignal): Promise<void> {
    if (this.decisions.get(eventId)?.status === 'COMPLETED') return;
    this.decisions.set(eventId, {
      status: 'RESOLVED',
      resolution,
      lease: { owner: '', until: 0 },
      expiresAt: this.#expiresAt(),
    });
  }

  async complete(eventId: string, resolution: Resolution, _signal?: AbortSignal): Promise<void> {
    this.decisions.set(eventId, {
      status: 'COMPLETED',
      resolution,
      expiresAt: this.#expiresAt(),
    });
  }

  async completeMany(completions: readonly Completion[], _signal?: AbortSignal): Promise<string[]> {
    for (const { eventId, resolution } of completions) await this.complete(eventId, resolution);
    return [];
  }

  async confirmTargets(
    confirmations: readonly ConfirmationEntry[],
    _signal?: AbortSignal,
  ): Promise<string[]> {
    // In memory nothing stops it keeping the later confirmation: it does.
    for (const { targetKey, confirmation } of confirmations)
      await this.confirmTarget(targetKey, confirmation);
    return [];
  }

  async completeAndConfirm(
    completions: readonly Completion[],
    confirmations: readonly ConfirmationEntry[],
    _signal?: AbortSignal,
  ): Promise<{ eventIds: string[]; targetKeys: string[] }> {
    return {
      eventIds: await this.completeMany(completions),
      targetKeys: await this.confirmTargets(confirmations),
    };
  }

  async readMany(
    keys: { eventIds: readonly string[]; targetKeys: readonly string[] },
    _signal?: AbortSignal,
  ): Promise<StoreSnapshot> {
    const now = this.#clock();
    const completed = new Set<string>();
    const held = new Set<string>();
    for (const eventId of keys.eventIds) {
      const found = this.decisions.get(eventId);
      if (!found || found.expiresAt < now) continue;
      held.add(eventId);
      if (found.status === 'COMPLETED') completed.add(eventId);
    }
    const confirmations = new Map<string, TargetConfirmation | undefined>();
    for (const key of keys.targetKeys)
      confirmations.set(key, await this.getTargetConfirmation(key));
    return { completed, held, confirmations };
  }

  async release(eventId: string, owner: string, _signal?: AbortSignal): Promise<void> {
    const existing = this.decisions.get(eventId);
    if (!existing || existing.status === 'COMPLETED' || existing.lease.owner !== owner) return;
    existing.lease = { owner, until: 0 };
  }

  async forget(eventId: string, _signal?: AbortSignal): Promise<void> {
    this.decisions.delete(eventId);
  }

  async getTargetConfirmation(
    targetKey: string,
    _signal?: AbortSignal,
  ): Promise<TargetConfirmation | undefined> {
    const found = this.targets.get(targetKey);
    if (!found || found.expiresAt < this.#clock()) return undefined;
    return { confirmedAt: found.confirmedAt, eventId: found.eventId };
  }

  async confirmTarget(
    targetKey: string,
    confirmation: TargetConfirmation,
    _signal?: AbortSignal,
  ): Promise<void> {
    const existing = this.targets.get(targetKey);
    if (
      existing &&
      existing.confirmedAt >= confirmation.confirmedAt &&
      existing.expiresAt >= this.#clock()
    )
      return;
    this.targets.set(targetKey, { ...confirmation, expiresAt: this.#expiresAt() });
  }

  async markQuarantined(
    messageId: string,
    stage: QuarantineStage,
    _signal?: AbortSignal,
  ): Promise<void> {
    this.quarantined.set(messageId, { stage, expiresAt: this.#expiresAt() });
  }

  async quarantineStage(
    messageId: string,
    _signal?: AbortSignal,
  ): Promise<QuarantineStage | undefined> {
    const found = this.quarantined.get(messageId);
    return found && found.expiresAt >= this.#clock() ? found.stage : undefined;
  }

  async reserveRevocations(
    requests: readonly ReservationRequest[],
    limit: BreakerLimit,
    _signal?: AbortSignal,
  ): Promise<ReserveResult[]> {
    if (requests.length === 0) return [];
    const now = Math.max(...requests.map((r) => r.reservation.at));
    const { state, outcomes } = decideReservations(this.breaker, requests, limit, now);
    this.breaker = state;
    return outcomes;
  }

  async releaseRevocation(bucket: string, _signal?: AbortSignal): Promise<void> {
    this.breaker = withoutReservation(this.breaker, bucket) ?? this.breaker;
  }

  async readBreaker(_signal?: AbortSignal): Promise<BreakerState> {
    return structuredClone(this.breaker);
  }

  async closeBreaker(_signal?: AbortSignal): Promise<BreakerOpening | undefined> {
    const closed = this.breaker.open;
    this.breaker = closedBreakerState();
    return closed;
  }
}
