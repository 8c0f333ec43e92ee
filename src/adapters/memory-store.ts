import { type Clock, systemClock } from '../core/deadline.js';
import type {
  ClaimResult,
  IdempotencyStore,
  QuarantineStage,
  Resolution,
  TargetConfirmation,
} from '../worker/ports.js';

type DecisionRecord =
  | { status: 'IN_PROGRESS'; leaseUntil: number; expiresAt: number }
  | { status: 'RESOLVED'; leaseUntil: number; expiresAt: number; resolution: Resolution }
  | { status: 'COMPLETED'; expiresAt: number; resolution: Resolution };

/**
 * `IdempotencyStore` in process memory: the same rules as the DynamoDB store, but per container, so
 * it deduplicates only what reaches the same container. Used when no table is configured (the
 * worker logs a warning) and by unit tests.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly decisions = new Map<string, DecisionRecord>();
  readonly targets = new Map<string, TargetConfirmation & { expiresAt: number }>();
  readonly quarantined = new Map<string, { stage: QuarantineStage; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #clock: Clock;

  constructor(options: { ttlSeconds: number; clock?: Clock }) {
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#clock = options.clock ?? systemClock;
  }

  async claim(eventId: string, leaseUntil: number): Promise<ClaimResult> {
    const now = this.#clock();
    const existing = this.decisions.get(eventId);
    if (!existing || existing.expiresAt < now) {
      this.decisions.set(eventId, {
        status: 'IN_PROGRESS',
        leaseUntil,
        expiresAt: now + this.#ttlMs,
      });
      return { status: 'acquired' };
    }
    if (existing.status === 'COMPLETED')
      return { status: 'completed', resolution: existing.resolution };
    if (existing.leaseUntil > now)
      return { status: 'in-progress', leaseUntil: existing.leaseUntil };
    existing.leaseUntil = leaseUntil;
    return existing.status === 'RESOLVED'
      ? { status: 'acquired', resolution: existing.resolution }
      : { status: 'acquired' };
  }

  async resolve(eventId: string, resolution: Resolution, leaseUntil: number): Promise<void> {
    this.decisions.set(eventId, {
      status: 'RESOLVED',
      resolution,
      leaseUntil,
      expiresAt: this.#clock() + this.#ttlMs,
    });
  }

  async complete(eventId: string, resolution: Resolution): Promise<void> {
    this.decisions.set(eventId, {
      status: 'COMPLETED',
      resolution,
      expiresAt: this.#clock() + this.#ttlMs,
    });
  }

  async release(eventId: string): Promise<void> {
    this.decisions.delete(eventId);
  }

  async getTargetConfirmation(targetKey: string): Promise<TargetConfirmation | undefined> {
    const found = this.targets.get(targetKey);
    if (!found || found.expiresAt < this.#clock()) return undefined;
    return { confirmedAt: found.confirmedAt, eventId: found.eventId };
  }

  async confirmTarget(targetKey: string, confirmation: TargetConfirmation): Promise<void> {
    const existing = this.targets.get(targetKey);
    if (
      existing &&
      existing.confirmedAt >= confirmation.confirmedAt &&
      existing.expiresAt >= this.#clock()
    )
      return;
    this.targets.set(targetKey, { ...confirmation, expiresAt: this.#clock() + this.#ttlMs });
  }

  async markQuarantined(messageId: string, stage: QuarantineStage): Promise<void> {
    this.quarantined.set(messageId, { stage, expiresAt: this.#clock() + this.#ttlMs });
  }

  async quarantineStage(messageId: string): Promise<QuarantineStage | undefined> {
    const found = this.quarantined.get(messageId);
    return found && found.expiresAt >= this.#clock() ? found.stage : undefined;
  }
}
