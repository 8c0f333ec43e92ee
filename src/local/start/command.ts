import { publishLocalStage } from '../stage-file.js';
import { type DemoOutput, startLocalDemo } from './demo.js';
import { ExitCode, LocalDemoError } from './errors.js';
import { renderKeepRunning, untilSignal, watchAuditEvents } from './keep-running.js';
import { parseStartArguments } from './options.js';
import { renderSummary } from './render.js';

/** Where `npm start` writes: stdout carries the summary (or the help) and nothing else. */
export interface CommandIo {
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
  /** stderr when it is a terminal: progress is drawn as a bar on it. */
  terminal?: NodeJS.WritableStream;
  /** Resolves when the operator asks to stop (`--keep-running`); default: SIGINT or SIGTERM. */
  untilStopped?: () => Promise<string>;
}

/**
 * `npm start` without the process around it: parses `args`, runs the demo, prints the summary
 * (and, with `--keep-running`, how to reach the stack, until stopped), and says how to exit.
 * Every error is reported on `writeErr` in one line; nothing is thrown.
 *
 * @example
 * process.exitCode = await runStartCommand(process.argv.slice(2), { writeOut, writeErr });
 */
export const runStartCommand = async (
  args: readonly string[],
  io: CommandIo,
): Promise<ExitCode> => {
  try {
    const parsed = parseStartArguments(args, io);
    if (parsed.kind === 'help') return ExitCode.Ok;
    const { options } = parsed;
    const output: DemoOutput = {
      stderr: io.writeErr,
      ...(io.terminal ? { interactive: { stream: io.terminal } } : {}),
    };
    const demo = await startLocalDemo(options, output);
    try {
      const { summary } = demo;
      io.writeOut(options.json ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(summary));
      if (options.keepRunning) {
        io.writeErr(renderKeepRunning(demo.stack));
        const stopWatching = watchAuditEvents(demo.stack, io.writeErr);
        // `revoker --stage local` in another terminal reads the endpoints from here.
        const unpublish = publishLocalStage(demo.stack.env);
        const reason = await (io.untilStopped ?? untilSignal)();
        unpublish();
        stopWatching();
        io.writeErr(`\n${reason}: stopping the worker and the stack…\n`);
      }
      return summary.ok ? ExitCode.Ok : ExitCode.Failed;
    } finally {
      await demo.stop();
    }
  } catch (error) {
    if (error instanceof LocalDemoError) {
      io.writeErr(`npm start: ${error.message}\n`);
      return error.exitCode;
    }
    io.writeErr(
      `npm start: unexpected error\n${error instanceof Error ? error.stack : String(error)}\n`,
    );
    return ExitCode.Failed;
  }
};
