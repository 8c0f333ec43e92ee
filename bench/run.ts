/**
 * `npm run bench`: runs the benchmark scenarios on the local stack, each side by side with the
 * baseline handler, prints the table on stdout (progress goes to stderr) and writes every figure
 * to bench/results.json (or --out). Targets are reported as PASS/FAIL; they never change the exit
 * code, which is 0 when the run completed, 2 on a bad command line and 1 when the harness failed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { runBench } from './bench.js';
import { parseCliOptions, USAGE, UsageError } from './cli-options.js';
import { stderrProgress } from './progress.js';
import { renderTable } from './table.js';

const main = async (): Promise<number> => {
  let options: ReturnType<typeof parseCliOptions>;
  try {
    options = parseCliOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const progress = stderrProgress();
  const results = await runBench({
    ...(options.only && { only: options.only }),
    quick: options.quick,
    singleThread: options.singleThread,
    workerOnly: options.workerOnly,
    workerEnv: options.workerEnv,
    defaults: options.defaults,
    storeLatencyMs: options.storeLatencyMs,
    progress,
  });
  const out = resolve(options.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  const { machine } = results;
  process.stdout.write(
    `\n${renderTable(results.table)}\n\n` +
      `${results.mode}${results.singleThread ? ' single-thread' : ''} run (worker ${Object.keys(results.workerConfiguration).length > 0 ? 'in hub mode with the guardrails on' : 'with the defaults'}) of ${results.scenarios.join(', ')} in ${results.durationSeconds} s on ` +
      `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${results.node}, ` +
      `commit ${results.git.commit?.slice(0, 12) ?? 'unknown'}` +
      `${results.git.sourceChanges.length > 0 ? ' (src/ modified)' : ''}` +
      `${results.git.sourceChangesAtEnd.join() !== results.git.sourceChanges.join() ? ' (src/ changed during the run)' : ''}\n` +
      `targets: ${results.targets.filter((t) => t.pass).length} of ${results.targets.length} met; ` +
      `figures in ${options.out}\n`,
  );
  return 0;
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench: the run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
