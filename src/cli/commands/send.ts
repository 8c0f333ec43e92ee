import { readFile } from 'node:fs/promises';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { parseMessageBody } from '../../core/parse.js';
import { chunkBySize } from '../batching.js';
import type { CommandContext } from '../context.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { printJson, startProgress } from '../output.js';
import { getQueueAttributes, sqsCall } from '../sqs.js';
import { type CommandRunner, commonOptions, fromStage } from './common.js';

export interface SendOptions {
  queueUrl: string;
  /** The JSONL text: one request per line; blank lines are ignored. */
  text: string;
  /** For messages: the file name, or `stdin`. */
  sourceName: string;
}

export interface LineProblem {
  line: number;
  code: string;
  message: string;
}

export interface SendSummary {
  lines: number;
  sent: number;
  failed: number;
}

export interface SendResult {
  exitCode: number;
  summary: SendSummary;
  /** Invalid lines (the file was rejected whole) or lines SQS refused twice. */
  problems: LineProblem[];
}

interface Line {
  line: number;
  body: string;
  eventId: string;
}

/** Validates every line with the worker's own parser; collects all problems, not just the first. */
export const validateLines = (text: string): { lines: Line[]; problems: LineProblem[] } => {
  const lines: Line[] = [];
  const problems: LineProblem[] = [];
  text.split('\n').forEach((raw, index) => {
    const body = raw.replace(/\r$/, '');
    if (body.trim() === '') return;
    const parsed = parseMessageBody(body);
    if (parsed.ok) lines.push({ line: index + 1, body, eventId: parsed.request.eventId });
    else {
      const { code, message } = parsed.rejection;
      problems.push({ line: index + 1, code, message });
    }
  });
  return { lines, problems };
};

const sendBatch = async (
  context: CommandContext,
  queueUrl: string,
  batch: readonly Line[],
): Promise<LineProblem[]> => {
  try {
    const output = await sqsCall('SendMessageBatch', queueUrl, () =>
      context.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((line) => ({ Id: `l${line.line}`, MessageBody: line.body })),
        }),
      ),
    );
    const ok = new Set((output.Successful ?? []).map((entry) => entry.Id));
    const failed = new Map((output.Failed ?? []).map((entry) => [entry.Id, entry]));
    return batch
      .filter((line) => !ok.has(`l${line.line}`))
      .map((line) => {
        const entry = failed.get(`l${line.line}`);
        return {
          line: line.line,
          code: entry?.Code ?? 'Missing',
          message: entry?.Message ?? 'SendMessageBatch returned no result for the entry',
        };
      });
  } catch (error) {
    if (error instanceof CliError && error.exitCode === ExitCode.Unusable) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return batch.map((line) => ({ line: line.line, code: 'Error', message }));
  }
};

const sizeOf = (line: Line) => Buffer.byteLength(line.body) + 64;

/**
 * `revoker send`: rejects the whole file, with every bad line and why, before sending anything;
 * otherwise sends it in batches of 10, retries refused entries once, and reports by line number.
 */
export const sendRequests = async (
  context: CommandContext,
  options: SendOptions,
): Promise<SendResult> => {
  const { output } = context;
  const { lines, problems } = validateLines(options.text);
  const total = lines.length + problems.length;
  const finish = (exitCode: number, summary: SendSummary, shown: LineProblem[]): SendResult => {
    if (output.json) printJson(output, { queueUrl: options.queueUrl, summary, problems: shown });
    else output.result(`lines ${summary.lines}, sent ${summary.sent}, failed ${summary.failed}`);
    return { exitCode, summary, problems: shown };
  };
  if (problems.length > 0) {
    output.note(
      `rejected ${options.sourceName}: ${problems.length} of ${total} line(s) invalid; nothing was sent`,
    );
    for (const p of problems) output.note(`line ${p.line}: ${p.code}: ${p.message}`);
    return finish(ExitCode.Failed, { lines: total, sent: 0, failed: 0 }, problems);
  }
  if (lines.length === 0) {
    throw new UsageError(`${options.sourceName} holds no request (one JSON object per line)`);
  }
  const seen = new Map<string, number>();
  for (const line of lines) {
    const first = seen.get(line.eventId);
    if (first !== undefined) {
      output.note(
        `warning: line ${line.line} repeats eventId ${line.eventId} of line ${first}: the worker will act once`,
      );
    } else seen.set(line.eventId, line.line);
  }

  await getQueueAttributes(context.sqs, options.queueUrl, ['QueueArn']);
  const progress = startProgress(output, 'send', lines.length);
  const failed: LineProblem[] = [];
  try {
    for (const batch of chunkBySize(lines, sizeOf)) {
      const refused = await sendBatch(context, options.queueUrl, batch);
      failed.push(...refused);
      progress.advance(batch.length, refused.length > 0 ? `${refused.length} refused` : '');
    }
    // One retry, of the refused entries only (throttling, a transient 5xx).
    const byLine = new Map(lines.map((line) => [line.line, line]));
    const retry = failed.splice(0).flatMap((p) => byLine.get(p.line) ?? []);
    for (const batch of chunkBySize(retry, sizeOf)) {
      failed.push(...(await sendBatch(context, options.queueUrl, batch)));
    }
  } finally {
    progress.stop();
  }
  for (const p of failed) output.note(`line ${p.line}: not sent: ${p.code}: ${p.message}`);
  return finish(
    failed.length > 0 ? ExitCode.Failed : ExitCode.Ok,
    { lines: lines.length, sent: lines.length - failed.length, failed: failed.length },
    failed,
  );
};

/** Reads FILE, or stdin for `-`. */
export const readInput = async (file: string, stdin: NodeJS.ReadableStream): Promise<string> => {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'Error';
    throw new UsageError(`cannot read ${file}: ${code}`, { cause: error });
  }
};

export const registerSend = (
  program: Command,
  run: CommandRunner,
  stdin: NodeJS.ReadableStream,
): void => {
  commonOptions(
    program
      .command('send')
      .summary('validate a JSONL file of revocation requests and send it to the queue')
      .usage('(--stage NAME | --queue-url URL) FILE|-')
      .argument('<file>', 'JSONL file, one request per line; - reads stdin')
      .option('--queue-url <url>', `the source queue the worker reads ${fromStage('--queue-url')}`),
  )
    .addHelpText(
      'after',
      `
Every line is checked with the worker's own parser first; if any is invalid, the whole file is
rejected (with each line number and reason) and nothing is sent.

Examples:
  $ revoker send --queue-url $QUEUE_URL decisions.jsonl
  $ jq -c '.[]' decisions.json | revoker send --queue-url $QUEUE_URL -`,
    )
    .action(
      run(async (context, flags: { queueUrl: string }, [file = '-']) => {
        const text = await readInput(file, stdin);
        const result = await sendRequests(context, {
          queueUrl: flags.queueUrl,
          text,
          sourceName: file === '-' ? 'stdin' : file,
        });
        return result.exitCode;
      }),
    );
};
