/**
 * Memory: one worker container's RSS after 1,000 and after 20,000 messages (a leak would show as
 * growth between the two), and its peak. The container runs in a child process of its own (the
 * benchmark process also hosts the emulators, whose tables grow with every message), invoked batch
 * after batch, one at a time, against zero-latency emulators, each message a distinct target: one
 * real disassociation per batch and nine dry runs (claims, store writes, audit, logs: all but the
 * call), so that the container's adaptive Redshift rate does not set the pace.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { MemoryJob, MemoryReport } from '../memory/container-process.js';
import type { Progress } from '../progress.js';
import { seededRandom } from '../random.js';
import { startStackHost } from '../stack-host/index.js';
import { round } from '../statistics.js';
import { makeTargets, seedOf } from '../workload.js';

export interface MemorySettings {
  /** Messages in all; the last checkpoint. */
  messages: number;
  /** The early checkpoint the last is compared with. */
  firstCheckpoint: number;
  batchSize: number;
  functionTimeoutMs: number;
  seed: number;
  /**
   * The worker's own configuration (the baseline never sees it): hub mode and the guardrails
   * (`GUARDED_WORKER`), or nothing with `--defaults`.
   */
  workerConfiguration: Readonly<Record<string, string>>;
}

export interface MemoryResult {
  settings: MemorySettings;
  worker: MemoryReport & {
    /** RSS after `messages` ÷ RSS after `firstCheckpoint` (after a full GC each time). */
    growth: number;
  };
}

const TSX = pathOfTsx();
function pathOfTsx(): string {
  return createRequire(import.meta.url).resolve('tsx');
}

export const runMemory = async (
  settings: MemorySettings,
  progress: Progress,
): Promise<MemoryResult> => {
  progress.step(`memory (one worker container, ${settings.messages} messages)`);
  const label = 'memory';
  const targets = makeTargets(settings.messages, label, seededRandom(settings.seed));
  progress.status('starting the local stack');
  const host = await startStackHost({ seed: settings.seed, datashares: seedOf(targets) });
  try {
    const job: MemoryJob = {
      env: { ...host.env, ...settings.workerConfiguration },
      messages: settings.messages,
      checkpoints: [settings.firstCheckpoint, settings.messages],
      batchSize: settings.batchSize,
      functionTimeoutMs: settings.functionTimeoutMs,
      seed: settings.seed,
      label,
      queueArn: host.queues.source.arn,
      accountId: host.accountId,
    };
    progress.status(`${settings.messages} messages through one container`);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        TSX,
        fileURLToPath(new URL('../memory/container-process.ts', import.meta.url)),
        JSON.stringify(job),
      ],
      { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...host.env } },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as MemoryReport;
    const [first, last] = report.checkpoints;
    const growth =
      first && last && first.rssAfterGcMiB > 0
        ? round(last.rssAfterGcMiB / first.rssAfterGcMiB, 3)
        : 0;
    progress.done(
      `RSS ${first?.rssAfterGcMiB} MiB after ${first?.messages}, ${last?.rssAfterGcMiB} MiB after ${last?.messages} (×${growth}), peak ${report.peakRssMiB} MiB`,
    );
    return { settings, worker: { ...report, growth } };
  } finally {
    await host.stop();
  }
};
