import { describe, expect, it } from 'vitest';
import { Deadline } from '../../../src/core/deadline.js';
import { FailureKind, IdempotencyStoreError } from '../../../src/core/errors.js';
import {
  ConfirmationNotWrittenError,
  confirmationWriter,
} from '../../../src/worker/confirmations.js';
import { testWorker } from '../../helpers/fakes.js';

const confirmation = (eventId: string) => ({ confirmedAt: 1_000, eventId });

/** A writer whose batched confirmation writes are recorded (target keys, per request). */
const recordingWriter = () => {
  const worker = testWorker();
  const written: string[][] = [];
  worker.deps.store.confirmTargets = async (items) => {
    written.push(items.map((i) => i.targetKey));
    return [];
  };
  const writer = confirmationWriter(worker.deps, new Deadline(30_000, 0, worker.clock.read));
  return { writer, written };
};

describe('confirmationWriter', () => {
  it('writes the confirmations that come together in one request', async () => {
    // Prepare
    const worker = testWorker();
    const single: string[] = [];
    const batches: string[][] = [];
    const store = worker.deps.store;
    store.confirmTarget = async (key) => {
      single.push(key);
    };
    store.confirmTargets = async (items) => {
      batches.push(items.map((i) => i.targetKey));
      return [];
    };
    const { confirm } = confirmationWriter(worker.deps, new Deadline(30_000, 0, worker.clock.read));

    // Act
    await Promise.all(['t-1', 't-2', 't-3', 't-4'].map((key) => confirm(key, confirmation(key))));

    // Assess
    expect(single).toEqual([]);
    expect(batches).toEqual([['t-1', 't-2', 't-3', 't-4']]);
  });

  it('writes a confirmation that comes alone with the conditional write, which keeps a later one', async () => {
    // Prepare
    const worker = testWorker();
    const single: string[] = [];
    worker.deps.store.confirmTarget = async (key) => {
      single.push(key);
    };
    const { confirm } = confirmationWriter(worker.deps, new Deadline(30_000, 0, worker.clock.read));

    // Act
    await confirm('t-1', confirmation('t-1'));
    await confirm('t-2', confirmation('t-2'));

    // Assess
    expect(single).toEqual(['t-1', 't-2']);
  });

  it('rejects a confirmation the batched write left unwritten, and only that one', async () => {
    // Prepare
    const worker = testWorker();
    worker.deps.store.confirmTargets = async () => ['t-3'];
    const { confirm } = confirmationWriter(worker.deps, new Deadline(30_000, 0, worker.clock.read));

    // Act
    const results = await Promise.allSettled(
      ['t-1', 't-2', 't-3'].map((key) => confirm(key, confirmation(key))),
    );

    // Assess
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(
      ConfirmationNotWrittenError,
    );
  });

  it('rejects every confirmation of a write that failed, with the store error', async () => {
    // Prepare
    const worker = testWorker();
    const error = new IdempotencyStoreError('down', { kind: FailureKind.Transient, code: 'X' });
    worker.deps.store.confirmTarget = () => Promise.reject(error);
    const { confirm } = confirmationWriter(worker.deps, new Deadline(30_000, 0, worker.clock.read));

    // Act / Assess
    await expect(confirm('t-1', confirmation('t-1'))).rejects.toBe(error);
    // The writer is free again afterwards.
    worker.deps.store.confirmTarget = async () => undefined;
    await expect(confirm('t-2', confirmation('t-2'))).resolves.toBeUndefined();
  });

  it('holds the group still waiting when the Redshift step ends, for the completion write to take', async () => {
    // Prepare
    const { writer, written } = recordingWriter();
    const confirmed = ['t-1', 't-2', 't-3'].map((key) =>
      writer.confirm(key, confirmation(key)).then(
        () => 'written',
        (error: unknown) => String(error),
      ),
    );

    // Act: held, then taken; the taker reports t-3 unwritten
    writer.hold();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const held = writer.takeHeld();
    held?.written(new Set(['t-3']));
    writer.flushHeld();

    // Assess: nothing written alone, each settled by the taker's report, taken once
    expect(written).toEqual([]);
    expect(held?.entries.map((e) => e.targetKey)).toEqual(['t-1', 't-2', 't-3']);
    expect(await Promise.all(confirmed)).toEqual([
      'written',
      'written',
      'ConfirmationNotWrittenError: the confirmation of t-3 was not written',
    ]);
    expect(writer.takeHeld()).toBeUndefined();
  });

  it('writes a held group alone when nothing takes it', async () => {
    // Prepare
    const { writer, written } = recordingWriter();
    const confirmed = ['t-1', 't-2'].map((key) => writer.confirm(key, confirmation(key)));

    // Act
    writer.hold();
    writer.flushHeld();
    await Promise.all(confirmed);

    // Assess
    expect(written).toEqual([['t-1', 't-2']]);
    expect(writer.takeHeld()).toBeUndefined();
  });
});
