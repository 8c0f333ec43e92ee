/**
 * `npm run soak`: the conservation run at any size, outside `npm test`. Streams the workload to the
 * source queue in rounds of 500 while the worker drains it under faults drawn from the seed
 * (store outages and slow periods recur all along), then checks that every request was conserved.
 * Progress on stderr; the verdict (or `--json`, the report) on stdout; exit code 0 on PASS, 1 on
 * FAIL, 2 on a bad command line.
 */
import { formatVerdict } from '../test/e2e/conservation/report.js';
import { type ConservationProgress, runConservation } from '../test/e2e/conservation/run.js';
import { TEST_RUN } from '../test/e2e/conservation/settings.js';

// fauxqs keeps its queues in node:sqlite, whose import warns "SQLite is an experimental
// feature" on Node 22 — about fauxqs, not about this run (as in `npm start`).
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && /SQLite/.test(warning.message)) return;
  process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`);
});

export const USAGE = 'usage: npm run soak -- [--requests N] [--minutes M] [--seed S] [--json]';

const HELP = `${USAGE}

Sends a seeded workload of revocation requests (decisions, resends, dry runs, malformed bodies) to
the local stack, in rounds of 500 messages: the next round goes once fewer than 500 wait in the
queue, so the backlog stays bounded and memory stays flat. Sending stops after N requests or M
minutes, whichever comes first; then the queue is drained (at most 5 minutes) and checked.

  --requests N  at most N requests (default 2000, or no limit when --minutes is given alone)
  --minutes M   keep sending for M minutes (default: until N were sent)
  --seed S      the seed of the workload and of every fault (default 1); a run replays from it
  --json        print the whole report as JSON instead of the verdict
  --help        this text

Faults: as in the conservation test (test/e2e/conservation/faults.ts), plus a store episode (an
outage answering 5xx, an outage that hangs, or a slow store) every 20-40 s while sending.
Verdict: PASS when no problem was found; known windows (a second audit event or DLQ copy whose
cause no worker can close) are counted and shown, and do not fail the run.`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface SoakOptions {
  requests: number;
  minutes: number | undefined;
  seed: number;
  json: boolean;
  help: boolean;
}

const positive = (flag: string, given: string | undefined, integer: boolean): number => {
  const value = Number(given);
  if (given === undefined || given === '' || !Number.isFinite(value) || value <= 0)
    throw new UsageError(`${flag} must be a positive number, '${given ?? ''}' given`);
  if (integer && !Number.isInteger(value))
    throw new UsageError(`${flag} must be a whole number, '${given}' given`);
  return value;
};

export const parseSoakOptions = (argv: readonly string[]): SoakOptions => {
  let requests: number | undefined;
  let minutes: number | undefined;
  let seed = 1;
  let json = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s) : [arg];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--requests':
        requests = positive('--requests', value(), true);
        break;
      case '--minutes':
        minutes = positive('--minutes', value(), false);
        break;
      case '--seed':
        seed = positive('--seed', value(), true);
        break;
      case '--json':
        json = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new UsageError(`unknown option '${arg}'`);
    }
  }
  return {
    requests: requests ?? (minutes === undefined ? 2000 : Number.MAX_SAFE_INTEGER),
    minutes,
    seed,
    json,
    help,
  };
};

const progressLine = (p: ConservationProgress): string =>
  `[soak ${(p.elapsedMs / 1000).toFixed(0).padStart(5)} s] ${p.phase}: sent ${p.sent}, audited ${p.audited}, in DLQ ${p.deadLetters}, in flight ${p.inFlight}`;

const main = async (): Promise<number> => {
  let options: SoakOptions;
  try {
    options = parseSoakOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`soak: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  process.stderr.write(
    `[soak] seed ${options.seed}, ${options.requests === Number.MAX_SAFE_INTEGER ? 'no request limit' : `${options.requests} requests`}${options.minutes === undefined ? '' : `, ${options.minutes} minutes`}\n`,
  );
  const report = await runConservation({
    ...TEST_RUN,
    seed: options.seed,
    requests: options.requests,
    ...(options.minutes === undefined ? {} : { minutes: options.minutes }),
    chunk: 500,
    episodes: { firstAfterMs: 5000, gapMs: { min: 20_000, max: 40_000 } },
    drainTimeoutMs: 5 * 60_000,
    onProgress: (p) => process.stderr.write(`${progressLine(p)}\n`),
  });
  process.stdout.write(
    options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatVerdict(report, 50)}\n`,
  );
  return report.verdict === 'PASS' ? 0 : 1;
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`soak: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
