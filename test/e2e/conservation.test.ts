/**
 * Conservation under random faults on every call the worker makes: Redshift throttles, 5xx,
 * hangs, resets and lost answers; failed audit entries and lost PutEvents answers; DynamoDB
 * throttles, 5xx, resets, lost answers, store outages of several seconds and a slow store; lost
 * SQS answers (DLQ copies, visibility changes, the poller's deletes); handler timeouts. At the
 * end, every decision is accounted for exactly once (its audit event, or its DLQ copy with the
 * reason), no target changed state twice, Redshift saw no call it did not need, the DLQ holds
 * only the worker's copies and nothing is left in flight. A second audit event or DLQ copy is
 * a problem unless a known window explains it (`conservation/checks.ts`).
 *
 * Five small runs, one per seed; `CONSERVATION_SEED=<seed>` replays one. `npm run soak` runs the
 * same at any size.
 */
import { expect, it, onTestFailed } from 'vitest';
import { formatVerdict } from './conservation/report.js';
import { runConservation } from './conservation/run.js';
import { TEST_RUN } from './conservation/settings.js';

const SEEDS = process.env.CONSERVATION_SEED
  ? [Number(process.env.CONSERVATION_SEED)]
  : [20_261_125, 1, 2, 3, 4];

it.each(SEEDS)(
  'seed %i: conserves every request under store, queue, Redshift and EventBridge faults: one terminal audit event or a DLQ copy with its reason each, one state change per target, no call wasted, nothing in flight',
  async (seed) => {
    // Prepare
    let printed = '';
    onTestFailed(() => console.log(printed));

    // Act
    const report = await runConservation({ ...TEST_RUN, seed });

    // Assess
    printed = `${formatVerdict(report)}\nconservation report ${JSON.stringify(report, null, 2)}`;
    console.log(formatVerdict(report, 0));
    expect(
      report.problems,
      `conservation broken with CONSERVATION_SEED=${seed} (${report.problems.length} problems)`,
    ).toEqual([]);
    expect(report.durationMs, `seed ${seed}: the run took ${report.durationMs} ms`).toBeLessThan(
      60_000,
    );
  },
  90_000,
);
