import type { CommandContext } from './context.js';
import type { DescribedMessage } from './dlq-entry.js';
import { DlqReader, forEachMatchingBatch } from './dlq-reader.js';

export interface ScanSettings {
  dlqUrl: string;
  holdSeconds: number;
  waitTimeSeconds: number;
  select: (described: DescribedMessage) => boolean;
  limit?: number;
}

export interface ScanOutcome {
  matched: number;
  /** Held messages that could not be made visible again (they reappear after the hold). */
  notReleased: number;
}

/**
 * One pass over the DLQ: hands `handle` the matching messages batch by batch, and — whatever
 * happens, errors and Ctrl-C included — makes every message it still holds visible again.
 */
export const scanDlq = async (
  context: CommandContext,
  settings: ScanSettings,
  handle: (batch: DescribedMessage[], reader: DlqReader) => Promise<void>,
): Promise<ScanOutcome> => {
  const reader = new DlqReader({
    sqs: context.sqs,
    queueUrl: settings.dlqUrl,
    holdSeconds: settings.holdSeconds,
    waitTimeSeconds: settings.waitTimeSeconds,
    now: context.now,
  });
  let matched = 0;
  let notReleased = 0;
  try {
    matched = await forEachMatchingBatch(
      reader,
      {
        select: settings.select,
        ...(settings.limit !== undefined && { limit: settings.limit }),
        ...(context.signal && { signal: context.signal }),
      },
      (batch) => handle(batch, reader),
    );
  } finally {
    const failures = await reader.releaseAll();
    notReleased = failures.length;
    if (notReleased > 0) {
      context.output.note(
        `warning: ${notReleased} message(s) could not be made visible again; they reappear within ${settings.holdSeconds} s (${failures[0]?.code}: ${failures[0]?.message})`,
      );
    }
  }
  return { matched, notReleased };
};

/** Collects the matching messages of one pass (a listing, or a plan to confirm). */
export const collectDlq = async (
  context: CommandContext,
  settings: ScanSettings,
): Promise<{ found: DescribedMessage[]; notReleased: number }> => {
  const found: DescribedMessage[] = [];
  const { notReleased } = await scanDlq(context, settings, async (batch) => {
    found.push(...batch);
  });
  return { found, notReleased };
};
