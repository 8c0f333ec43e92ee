/**
 * `npm run bench -- --single-thread`: the storm with the emulators, the event source mappings and
 * every container on the benchmark's own thread. Checked at the `--quick` size: the same
 * invariants as the default harness, and the placement recorded.
 */
import { describe, expect, it } from 'vitest';
import { runBench } from '../../bench/bench.js';
import { silentProgress } from '../../bench/progress.js';
import { QUICK } from '../../bench/settings.js';

describe('bench storm on one thread (--single-thread)', () => {
  it('drains the storm and audits every eventId exactly once, on one thread', async () => {
    // Act
    const results = await runBench({
      quick: true,
      only: ['storm'],
      singleThread: true,
      progress: silentProgress,
    });

    // Assess
    const worker = results.storm?.worker;
    expect(results.singleThread).toBe(true);
    expect(results.storm?.settings.singleThread).toBe(true);
    expect(worker?.drained).toBe(true);
    expect(worker?.audit.exactlyOnce).toBe(true);
    expect(worker?.disassociateCalls.ok).toBe(QUICK.storm.targets);
    expect(worker?.cpu.singleThread).toBe(true);
    // One thread: the host's event loop is the main one.
    expect(worker?.eventLoop.hostUtilization).toBeCloseTo(
      worker?.eventLoop.mainUtilization ?? -1,
      1,
    );
  }, 120_000);
});
