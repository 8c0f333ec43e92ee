import type { Deadline } from '../core/deadline.js';
import { storeCall, type WorkerDependencies } from './batch-state.js';
import type { ConfirmationEntry, TargetConfirmation } from './ports.js';

/** Records one target's confirmation; rejects when it could not be written. */
export type ConfirmTarget = (targetKey: string, confirmation: TargetConfirmation) => Promise<void>;

interface Pending {
  targetKey: string;
  confirmation: TargetConfirmation;
  settle: (error?: unknown) => void;
}

/** Why a confirmation of a batched write is reported unwritten. */
export class ConfirmationNotWrittenError extends Error {
  constructor(targetKey: string, options?: ErrorOptions) {
    super(`the confirmation of ${targetKey} was not written`, options);
    this.name = 'ConfirmationNotWrittenError';
  }
}

/** Confirmations that come within this long of the first of a group are written with it. */
export const CONFIRM_COALESCE_MS = 5;

/** The confirmations a writer held back for the batch's completion write (`takeHeld`). */
export interface HeldConfirmations {
  entries: ConfirmationEntry[];
  /** Settles them with what the write left unwritten, or with its error. */
  written(unwrittenKeys: ReadonlySet<string> | { error: unknown }): void;
}

/** Records target confirmations for one invocation (`confirmationWriter`). */
export interface ConfirmationWriter {
  /** Records one target's confirmation; rejects when it could not be written. */
  confirm: ConfirmTarget;
  /**
   * The Redshift step is over: the group still waiting for its timer stops waiting and is held,
   * to go with the batch's completions (`takeHeld`) — one request fewer — or alone (`flushHeld`).
   */
  hold(): void;
  /** Takes the held group (at most once): its writer must call `written`. */
  takeHeld(): HeldConfirmations | undefined;
  /** Writes the held group alone, if nothing took it. */
  flushHeld(): void;
}

/**
 * Writes target confirmations almost as soon as they come: those that come within
 * `CONFIRM_COALESCE_MS` of each other go together — one alone as a conditional `confirmTarget`
 * (which never replaces a later confirmation), several as one `confirmTargets` request. A batch
 * whose calls answer together costs one or two requests instead of ten; a storm's
 * confirmations, spread out, go one by one, 5 ms later than alone. Groups never wait for each
 * other: a slow store delays a confirmation by its own write only. The group still waiting when
 * the Redshift step ends is held (`hold`) for the batch's completion write, which follows the
 * audit within milliseconds: the same request carries it.
 */
export const confirmationWriter = (
  deps: WorkerDependencies,
  deadline: Deadline,
): ConfirmationWriter => {
  let group: Pending[] | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let held: Pending[] | undefined;
  const write = async (batch: readonly Pending[]): Promise<Set<string>> => {
    const [only] = batch;
    if (only && batch.length === 1) {
      await storeCall(deadline, (signal) =>
        deps.store.confirmTarget(only.targetKey, only.confirmation, signal),
      );
      return new Set();
    }
    return new Set(
      await storeCall(deadline, (signal) =>
        deps.store.confirmTargets(
          batch.map(({ targetKey, confirmation }) => ({ targetKey, confirmation })),
          signal,
        ),
      ),
    );
  };
  const settleAll = (
    batch: readonly Pending[],
    result: ReadonlySet<string> | { error: unknown },
  ): void => {
    for (const pending of batch) {
      if ('error' in result) pending.settle(result.error);
      else if (result.has(pending.targetKey))
        pending.settle(new ConfirmationNotWrittenError(pending.targetKey));
      else pending.settle();
    }
  };
  const flush = async (batch: readonly Pending[]): Promise<void> => {
    settleAll(batch, await write(batch).catch((error: unknown) => ({ error })));
  };
  return {
    confirm: (targetKey, confirmation) =>
      new Promise<void>((resolve, reject) => {
        const pending: Pending = {
          targetKey,
          confirmation,
          settle: (error) => (error === undefined ? resolve() : reject(error)),
        };
        if (group) {
          group.push(pending);
          return;
        }
        const current = [pending];
        group = current;
        timer = setTimeout(() => {
          group = undefined;
          timer = undefined;
          void flush(current);
        }, CONFIRM_COALESCE_MS);
      }),
    hold: () => {
      if (!group) return;
      clearTimeout(timer);
      held = [...(held ?? []), ...group];
      group = undefined;
      timer = undefined;
    },
    takeHeld: () => {
      const taken = held;
      held = undefined;
      if (!taken) return undefined;
      return {
        entries: taken.map(({ targetKey, confirmation }) => ({ targetKey, confirmation })),
        written: (result) => settleAll(taken, result),
      };
    },
    flushHeld: () => {
      const taken = held;
      held = undefined;
      if (taken) void flush(taken);
    },
  };
};
