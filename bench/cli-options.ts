import { SCENARIOS, type ScenarioName } from './settings.js';

export const USAGE = `usage: npm run bench -- [--only ${SCENARIOS.join(',')}] [--quick] [--single-thread] [--worker-only] [--worker-env KEY=VALUE]... [--defaults] [--store-latency-ms N] [--out FILE]`;

export interface CliOptions {
  only?: ScenarioName[];
  quick: boolean;
  /** The storms with the emulators, the event source mappings and every container on one thread. */
  singleThread: boolean;
  /** Only the worker's side of the storms and the throughput (for iterating; no ratios to the baseline). */
  workerOnly: boolean;
  /** Extra worker environment for every scenario (`--worker-env KEY=VALUE`, repeatable). */
  workerEnv: Record<string, string>;
  /** The worker with the deployment's defaults, not hub mode and the guardrails (`--defaults`). */
  defaults: boolean;
  /**
   * The latency scenario only: DynamoDB answers each request this much later (the fault proxy's
   * latency), as across a network; the emulator alone answers in about a millisecond.
   */
  storeLatencyMs: number;
  out: string;
  help: boolean;
}

/** A command line the benchmark cannot run; the message says what was wrong and what was given. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DEFAULT_OUT = 'bench/results.json';

/**
 * Parses the benchmark's arguments (`--only a,b`, `--only=a,b`, `--quick`, `--single-thread`, `--out FILE`,
 * `--help`).
 *
 * @throws {UsageError} e.g. "--only: unknown scenario 'strom'; expected one of storm, latency, cold-start, throughput".
 */
export const parseCliOptions = (argv: readonly string[]): CliOptions => {
  const options: CliOptions = {
    quick: false,
    singleThread: false,
    workerOnly: false,
    workerEnv: {},
    defaults: false,
    storeLatencyMs: 0,
    out: DEFAULT_OUT,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg];
    const value = () => {
      const given = inline ?? argv[++i];
      if (given === undefined || given === '' || (inline === undefined && given.startsWith('--')))
        throw new UsageError(`${flag} needs a value`);
      return given;
    };
    switch (flag) {
      case '--quick':
        options.quick = true;
        break;
      case '--single-thread':
        options.singleThread = true;
        break;
      case '--worker-only':
        options.workerOnly = true;
        break;
      case '--defaults':
        options.defaults = true;
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      case '--out':
        options.out = value();
        break;
      case '--store-latency-ms': {
        const given = value();
        const ms = Number(given);
        if (!/^\d+$/.test(given) || ms > 1000)
          throw new UsageError(
            `--store-latency-ms: expected a whole number of milliseconds from 0 to 1000; given '${given}'`,
          );
        options.storeLatencyMs = ms;
        break;
      }
      case '--worker-env': {
        const given = value();
        const match = /^([A-Z][A-Z0-9_]*)=(.*)$/s.exec(given);
        if (!match)
          throw new UsageError(
            `--worker-env: expected KEY=VALUE with an upper-case variable name; given '${given}'`,
          );
        options.workerEnv[match[1] as string] = match[2] as string;
        break;
      }
      case '--only': {
        const names = value()
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name.length > 0);
        for (const name of names)
          if (!(SCENARIOS as readonly string[]).includes(name))
            throw new UsageError(
              `--only: unknown scenario '${name}'; expected one of ${SCENARIOS.join(', ')}`,
            );
        if (names.length === 0) throw new UsageError('--only needs at least one scenario');
        options.only = names as ScenarioName[];
        break;
      }
      default:
        throw new UsageError(`unknown option '${arg}'`);
    }
  }
  return options;
};
