// Runs in a fresh Node process: imports one bundled handler, as the Lambda runtime does at cold
// start (the module builds its clients at import), and reports how long that took. Plain
// JavaScript, so that no loader stands between the process and the bundle.
//
// With `--files-read` it reports instead which files the import read (a module load hook records
// every file: URL), for the byte count: the handler awaits the modules its configuration turns on,
// so what is read at init depends on the environment. Not timed: the hook costs time per module.
import { registerHooks } from 'node:module';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const bundle = process.argv[2];
if (!bundle) {
  process.stderr.write('usage: node probe.mjs <bundle.mjs> [--files-read]\n');
  process.exit(2);
}
const filesRead = process.argv[3] === '--files-read' ? [] : undefined;
if (filesRead) {
  registerHooks({
    load(url, context, nextLoad) {
      if (url.startsWith('file:')) filesRead.push(url);
      return nextLoad(url, context);
    },
  });
}
const started = performance.now();
const module = await import(pathToFileURL(bundle).href);
const importMs = performance.now() - started;
if (typeof module.handler !== 'function') {
  process.stderr.write(`${bundle} exports no handler function\n`);
  process.exit(1);
}
// readyMs: from the process's time origin (its start) to a handler ready to be invoked.
process.stdout.write(
  `${JSON.stringify(filesRead ? { filesRead } : { importMs, readyMs: performance.now() })}\n`,
);
process.exit(0);
