import type { Command } from 'commander';
import { type CommandContext, DEFAULT_WAIT_TIME_SECONDS, HOLD_SECONDS } from '../context.js';
import type { DlqEntry } from '../dlq-entry.js';
import { ExitCode } from '../errors.js';
import { type Column, formatAge, printJson, renderTable } from '../output.js';
import { collectDlq } from '../selection.js';
import type { CommandRunner } from './common.js';
import { commonOptions, fromStage, parseCount } from './common.js';

export interface ListOptions {
  dlqUrl: string;
  max?: number;
  waitTimeSeconds?: number;
}

export interface ListResult {
  exitCode: number;
  entries: DlqEntry[];
  /** Messages that could not be made visible again (they reappear after the hold). */
  notReleased: number;
}

export const LIST_COLUMNS: readonly Column<DlqEntry>[] = [
  { header: 'EVENT ID', value: (e) => e.eventId ?? '-', maxWidth: 40 },
  // ARNs are never cut: operators copy them into --datashare.
  { header: 'DATASHARE', value: (e) => e.dataShareArn ?? '-' },
  { header: 'CONSUMER', value: (e) => e.consumer ?? '-' },
  { header: 'OUTCOME', value: (e) => e.outcome ?? '-' },
  {
    header: 'ERROR',
    value: (e) =>
      e.errorCode !== null || e.errorMessage !== null
        ? [e.errorCode && `${e.errorCode}:`, e.errorMessage].filter(Boolean).join(' ')
        : e.why,
    maxWidth: 80,
  },
  { header: 'RECEIVES', value: (e) => (e.receiveCount === null ? '-' : String(e.receiveCount)) },
  { header: 'AGE', value: (e) => formatAge(e.ageSeconds) },
  { header: 'REPLAYS', value: (e) => String(e.replayCount) },
];

/**
 * Lists a DLQ without consuming it: every message is received with a short hold, then made
 * visible again at once (ChangeMessageVisibilityBatch 0). Only receive counts change.
 *
 * @example
 * await listDlq(context, { dlqUrl, max: 50 });
 */
export const listDlq = async (
  context: CommandContext,
  options: ListOptions,
): Promise<ListResult> => {
  const { output } = context;
  const { found, notReleased } = await collectDlq(context, {
    dlqUrl: options.dlqUrl,
    holdSeconds: HOLD_SECONDS.list,
    waitTimeSeconds: options.waitTimeSeconds ?? DEFAULT_WAIT_TIME_SECONDS,
    select: () => true,
    ...(options.max !== undefined && { limit: options.max }),
  });
  const entries = found.map((described) => described.entry);
  const truncated = options.max !== undefined && entries.length >= options.max;
  if (output.json) {
    printJson(output, {
      queueUrl: options.dlqUrl,
      count: entries.length,
      truncated,
      messages: entries,
    });
  } else if (entries.length === 0) {
    output.result(`${options.dlqUrl} is empty (no visible message)`);
  } else {
    output.result(renderTable(LIST_COLUMNS, entries));
    output.result(
      `\n${entries.length} message(s)${truncated ? ` (stopped at --max ${options.max}; more may remain)` : ''}; read without consuming, all visible again`,
    );
  }
  for (const entry of entries) {
    if (entry.attributeProblems.length > 0) {
      output.note(`warning: ${entry.messageId}: ${entry.attributeProblems.join('; ')}`);
    }
  }
  return { exitCode: ExitCode.Ok, entries, notReleased };
};

export const registerDlqList = (dlq: Command, run: CommandRunner): void => {
  commonOptions(
    dlq
      .command('list')
      .summary('show what is in the DLQ and why, without consuming it')
      .usage('(--stage NAME | --dlq-url URL) [--max N] [--json]')
      .option('--dlq-url <url>', `the dead-letter queue URL ${fromStage('--dlq-url')}`)
      .option('--max <n>', 'show at most N messages', (v) => parseCount('--max', v)),
  )
    .addHelpText(
      'after',
      `
Every message is received with a ${HOLD_SECONDS.list} s hold and made visible again at once: listing
consumes nothing (only the messages' receive counts grow).

Examples:
  $ revoker dlq list --dlq-url https://sqs.us-east-1.amazonaws.com/111122223333/revocations-dlq
  $ revoker dlq list --dlq-url $DLQ_URL --max 20 --json | jq '.messages[] | {eventId, errorCode}'`,
    )
    .action(
      run(async (context, flags: { dlqUrl: string; max?: number }) => {
        const result = await listDlq(context, {
          dlqUrl: flags.dlqUrl,
          ...(flags.max !== undefined && { max: flags.max }),
        });
        return result.exitCode;
      }),
    );
};
