/**
 * `npm start`: the whole pipeline on one laptop. See docs/local-stack.md.
 *
 * Usage: npm start -- [--events FILE] [--datashares FILE] [--single-account] [--throttle-rps N]
 *   [--error-rate R] [--latency-ms N] [--seed N] [--log-level L] [--drain-timeout S] [--json]
 *   [--keep-running]
 */
import { runStartCommand } from './command.js';
import { untilSignal } from './keep-running.js';

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

// No process.exit: every server, socket and timer is closed, so the process ends by itself once
// stdout is flushed (a forced exit could cut a piped summary short).
process.exitCode = await runStartCommand(process.argv.slice(2), {
  writeOut: (text) => writeOut(text),
  writeErr: (text) => writeErr(text),
  ...(process.stderr.isTTY ? { terminal: process.stderr } : {}),
  // With --keep-running, the first Ctrl-C stops gracefully; a second one while that runs means
  // "now": the one place we exit by hand. (Before that, Ctrl-C ends the process as usual: every
  // server lives in it.)
  untilStopped: async () => {
    const signal = await untilSignal();
    process.once('SIGINT', () => process.exit(130));
    return signal;
  },
});
