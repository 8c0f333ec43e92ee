import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ExitCode, InvalidOptionError, LocalDemoError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What `npm start` runs with; {@link parseStartArguments} builds it from the command line. */
export interface LocalDemoOptions {
  /** JSONL file of SQS message bodies, one a line. */
  eventsFile: string;
  /** Seed of the Redshift emulator (`examples/datashares.json` shape). */
  datasharesFile: string;
  /**
   * Run the worker in its own account only (no `CONSUMER_ROLE_NAME`), as before hub and spoke;
   * by default it is the hub of `examples/accounts.json` (see `accounts.ts`).
   */
  singleAccount: boolean;
  /** Redshift emulator rate limit, calls per second over all operations; 0 = none. */
  throttleRps: number;
  /** Share of Redshift calls answered 500/503. */
  errorRate: number;
  /** Latency added to every Redshift answer. */
  latencyMs: number;
  /** PRNG seed of the emulators' random faults; `undefined` picks one (shown in the summary). */
  seed: number | undefined;
  /** The worker's `LOG_LEVEL`. */
  logLevel: LogLevel;
  json: boolean;
  keepRunning: boolean;
  /** Give up waiting for the source queue to drain after this long. */
  drainTimeoutSeconds: number;
}

const fromRepository = (path: string): string =>
  fileURLToPath(new URL(`../../../${path}`, import.meta.url));

/** The example files, found from this module so `npm start` works from any directory. */
export const DEFAULT_FILES = {
  events: fromRepository('examples/revocations.jsonl'),
  datashares: fromRepository('examples/datashares-demo.json'),
  /** The STS emulator's accounts and roles in hub mode. */
  accounts: fromRepository('examples/accounts.json'),
} as const;

export const DEFAULT_OPTIONS: LocalDemoOptions = {
  eventsFile: DEFAULT_FILES.events,
  datasharesFile: DEFAULT_FILES.datashares,
  singleAccount: false,
  throttleRps: 0,
  errorRate: 0,
  latencyMs: 0,
  seed: undefined,
  logLevel: 'warn',
  json: false,
  keepRunning: false,
  drainTimeoutSeconds: 120,
};

const WHOLE = /^\d+$/;
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

const whole = (option: string, given: string, min: number, max: number, unit = ''): number => {
  const value = Number(given);
  if (!WHOLE.test(given) || value < min || value > max) {
    throw new InvalidOptionError(option, `a whole number${unit} from ${min} to ${max}`, given);
  }
  return value;
};

const fraction = (option: string, given: string): number => {
  const value = Number(given);
  if (!DECIMAL.test(given) || value > 1) {
    throw new InvalidOptionError(option, 'a number from 0 to 1 (a share of the calls)', given);
  }
  return value;
};

/** The options as commander hands them over: strings, or flags. */
export interface RawStartOptions {
  events?: string;
  datashares?: string;
  singleAccount?: boolean;
  throttleRps?: string;
  errorRate?: string;
  latencyMs?: string;
  seed?: string;
  logLevel?: string;
  json?: boolean;
  keepRunning?: boolean;
  drainTimeout?: string;
}

/**
 * Checks every option and applies the defaults.
 *
 * @throws {InvalidOptionError} naming the option, what it must be and what was given.
 * @example
 * resolveStartOptions({ errorRate: '0.1' }); // { ...DEFAULT_OPTIONS, errorRate: 0.1 }
 */
export const resolveStartOptions = (raw: RawStartOptions): LocalDemoOptions => {
  const logLevel = raw.logLevel ?? DEFAULT_OPTIONS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new InvalidOptionError('--log-level', `one of ${LOG_LEVELS.join(', ')}`, logLevel);
  }
  for (const [option, path] of [
    ['--events', raw.events],
    ['--datashares', raw.datashares],
  ] as const) {
    if (path !== undefined && path.trim() === '') {
      throw new InvalidOptionError(option, 'a file path', path);
    }
  }
  return {
    eventsFile: raw.events ?? DEFAULT_OPTIONS.eventsFile,
    datasharesFile: raw.datashares ?? DEFAULT_OPTIONS.datasharesFile,
    singleAccount: raw.singleAccount ?? false,
    // Whole calls per second: the emulator's bucket takes fractions, but below 1 call/s the
    // example's calls and their retries outlast any sensible drain timeout.
    throttleRps:
      raw.throttleRps === undefined
        ? DEFAULT_OPTIONS.throttleRps
        : whole('--throttle-rps', raw.throttleRps, 0, 10_000, ' of calls per second'),
    errorRate:
      raw.errorRate === undefined
        ? DEFAULT_OPTIONS.errorRate
        : fraction('--error-rate', raw.errorRate),
    // Above the worker's Redshift request timeout (5 s) every call would time out.
    latencyMs:
      raw.latencyMs === undefined
        ? DEFAULT_OPTIONS.latencyMs
        : whole('--latency-ms', raw.latencyMs, 0, 5000, ' of milliseconds'),
    seed: raw.seed === undefined ? undefined : whole('--seed', raw.seed, 0, 2 ** 32 - 1),
    logLevel: logLevel as LogLevel,
    json: raw.json ?? false,
    keepRunning: raw.keepRunning ?? false,
    drainTimeoutSeconds:
      raw.drainTimeout === undefined
        ? DEFAULT_OPTIONS.drainTimeoutSeconds
        : whole('--drain-timeout', raw.drainTimeout, 1, 3600, ' of seconds'),
  };
};

const EXAMPLES = `
Examples:
  npm start                                  the example events against the example datashares,
                                             the worker as the hub of three consumer accounts
  npm start -- --single-account              the worker in its own account only (no spoke role)
  npm start -- --json > run.json             the summary as one JSON object (progress stays on stderr)
  npm start -- --throttle-rps 2 --seed 7     Redshift answers "Rate exceeded" above 2 calls/s
  npm start -- --keep-running                keep the stack up and print how to point the AWS CLI at it

See docs/local-stack.md.`;

/** The command line of `npm start`; `write*` let a test capture help and errors. */
export const startCommand = (
  io: { writeOut: (text: string) => void; writeErr: (text: string) => void } = {
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
  },
): Command =>
  new Command('npm start --')
    .description(
      'Run datashare-revoker on this machine: start the local stack (SQS, DynamoDB, STS, Redshift and EventBridge emulators), send the events, run the real handler (the hub of examples/accounts.json) through a local SQS event source mapping until the queue is drained, and print a summary.',
    )
    .usage('[options]')
    .option('--events <file>', 'JSONL file of SQS message bodies', 'examples/revocations.jsonl')
    .option('--datashares <file>', 'Redshift emulator seed', 'examples/datashares-demo.json')
    .option(
      '--single-account',
      'run the worker in its own account only: no CONSUMER_ROLE_NAME, no spoke accounts',
    )
    .option('--throttle-rps <n>', 'Redshift rate limit in calls per second, 0 = none', '0')
    .option('--error-rate <r>', 'share of Redshift calls answered 500/503, 0 to 1', '0')
    .option('--latency-ms <n>', 'latency added to every Redshift answer', '0')
    .option('--seed <n>', 'PRNG seed of the emulators random faults (default: random)')
    .option('--log-level <level>', `worker LOG_LEVEL: ${LOG_LEVELS.join(', ')}`, 'warn')
    .option(
      '--drain-timeout <seconds>',
      'seconds to wait for the queue to drain before giving up',
      '120',
    )
    .option('--json', 'print the summary as one JSON object')
    .option('--keep-running', 'keep the stack and the worker up until Ctrl-C')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', EXAMPLES)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr, outputError: () => {} });

/** What the command line asks for: a run, or nothing more than the help it already printed. */
export type StartArguments = { kind: 'run'; options: LocalDemoOptions } | { kind: 'help' };

/**
 * Parses `npm start` arguments (without the `node` and script entries).
 *
 * @throws {LocalDemoError} with exit code 2 for an unknown option, a missing value or a bad one.
 * @example
 * parseStartArguments(['--json', '--seed', '7']);
 */
export const parseStartArguments = (
  args: readonly string[],
  io?: { writeOut: (text: string) => void; writeErr: (text: string) => void },
): StartArguments => {
  const command = startCommand(io);
  try {
    command.parse([...args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return { kind: 'help' };
      // Commander says "error: unknown option '--x'"; keep its words, not its exit code (1).
      throw new LocalDemoError(
        `${error.message.replace(/^error: /, '')} (see --help)`,
        ExitCode.Usage,
        { cause: error },
      );
    }
    throw error;
  }
  const raw = command.opts<RawStartOptions>();
  // The defaults shown in --help are strings relative to the repository: use the resolved paths.
  const source = (name: string) => command.getOptionValueSource(name);
  return {
    kind: 'run',
    options: resolveStartOptions({
      ...raw,
      events: source('events') === 'default' ? undefined : raw.events,
      datashares: source('datashares') === 'default' ? undefined : raw.datashares,
    }),
  };
};
