import type { Deadline } from '../core/deadline.js';
import { storeCall, type WorkerDependencies } from './batch-state.js';
import type { TargetConfirmation } from './ports.js';

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

/**
 * Writes target confirmations almost as soon as they come: those that come within
 * `CONFIRM_COALESCE_MS` of each other go together — one alone as a conditional `confirmTarget`
 * (which never replaces a later confirmation), several as one `confirmTargets` request. A batch
 * whose calls answer together costs one or two requests instead of ten; a storm's
 * confirmations, spread out, go one by one, 5 ms later than alone. Groups never wait for each
 * other: a slow store delays a confirmation by its own write only.
 */
export const confirmationWriter = (deps: WorkerDependencies, deadline: Deadline): ConfirmTarget => {
  let group: Pending[] | undefined;
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
  const flush = async (batch: readonly Pending[]): Promise<void> => {
    const failed = await write(batch).catch((error: unknown) => error);
    for (const pending of batch) {
      if (!(failed instanceof Set)) pending.settle(failed);
      else if (failed.has(pending.targetKey))
        pending.settle(new ConfirmationNotWrittenError(pending.targetKey));
      else pending.settle();
    }
  };
  return (targetKey, confirmation) =>
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
      setTimeout(() => {
        group = undefined;
        void flush(current);
      }, CONFIRM_COALESCE_MS);
    });
};
