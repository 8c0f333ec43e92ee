/**
 * `npm start`: the whole pipeline on one laptop. See docs/local-stack.md.
 *
 * Usage: npm start -- [--events FILE] [--datashares FILE] [--throttle-rps N] [--error-rate R]
 *   [--latency-ms N] [--seed N] [--log-level L] [--drain-timeout S] [--json] [--keep-running]
 */
import { type DemoOutput, startLocalDemo } from './demo.js';
import { ExitCode, LocalDemoError } from './errors.js';
import { renderKeepRunning, untilSignal, watchAuditEvents } from './keep-running.js';
import { parseStartArguments } from './options.js';
import { renderSummary } from './render.js';

// fauxqs keeps its queues in node:sqlite, whose import warns "SQLite is an experimental
// feature" on Node 22 — about fauxqs, not about this run. Node emits warnings on the next tick,
// after this module's imports have run: drop that one, print every other as Node would.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && /SQLite/.test(warning.message)) return;
  process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`);
});

// Bound now: while the demo runs, process.stdout.write belongs to the worker (worker-output.ts).
const writeOut = process.stdout.write.bind(process.stdout);
const writeErr = process.stderr.write.bind(process.stderr);

const main = async (): Promise<ExitCode> => {
  const parsed = parseStartArguments(process.argv.slice(2), {
    writeOut: (text) => writeOut(text),
    writeErr: (text) => writeErr(text),
  });
  if (parsed.kind === 'help') return ExitCode.Ok;
  const { options } = parsed;
  const output: DemoOutput = {
    stderr: (text) => writeErr(text),
    ...(process.stderr.isTTY ? { interactive: { stream: process.stderr } } : {}),
  };

  const demo = await startLocalDemo(options, output);
  try {
    const { summary } = demo;
    writeOut(options.json ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(summary));
    if (options.keepRunning) {
      writeErr(renderKeepRunning(demo.stack));
      const stopWatching = watchAuditEvents(demo.stack, (text) => writeErr(text));
      const signal = await untilSignal();
      stopWatching();
      writeErr(`\n${signal}: stopping the worker and the stack…\n`);
      // A second Ctrl-C while the graceful stop runs means "now": the one place we exit by hand.
      process.once('SIGINT', () => process.exit(130));
    }
    return summary.ok ? ExitCode.Ok : ExitCode.Failed;
  } finally {
    await demo.stop();
  }
};

main().then(
  (code) => {
    // No process.exit: every server, socket and timer is closed, so the process ends by itself
    // once stdout is flushed (a forced exit could cut a piped summary short).
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof LocalDemoError) {
      writeErr(`npm start: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else {
      writeErr(
        `npm start: unexpected error\n${error instanceof Error ? error.stack : String(error)}\n`,
      );
      process.exitCode = ExitCode.Failed;
    }
  },
);
