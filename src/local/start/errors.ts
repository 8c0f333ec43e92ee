/**
 * Errors of `npm start`. Each says what is wrong in the one line printed on stderr, and carries
 * the exit code: 2 when the run could not start (a bad option or input file). A run that did not
 * finish as it should (a failed check, a queue that never drained) exits 1 from its summary.
 */

export const ExitCode = {
  Ok: 0,
  /** The run started but did not finish: the queue did not drain, or something crashed. */
  Failed: 1,
  /** Nothing ran: a bad option, or an input file that cannot be read or parsed. */
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The base of the errors `npm start` reports on purpose: `message` is the whole story. */
export class LocalDemoError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalDemoError';
    this.exitCode = exitCode;
  }
}

/**
 * An option has a bad value, e.g. "--error-rate must be a number from 0 to 1, '1.5' given".
 *
 * @example
 * throw new InvalidOptionError('--seed', 'a whole number from 0 to 4294967295', '-1');
 */
export class InvalidOptionError extends LocalDemoError {
  readonly option: string;
  readonly given: string;

  constructor(option: string, expected: string, given: string, options?: ErrorOptions) {
    super(`${option} must be ${expected}, '${given}' given`, ExitCode.Usage, options);
    this.name = 'InvalidOptionError';
    this.option = option;
    this.given = given;
  }
}

/** An input file (`--events`, `--datashares`) cannot be read or holds something unusable. */
export class InputFileError extends LocalDemoError {
  readonly path: string;

  constructor(path: string, message: string, options?: ErrorOptions) {
    super(`${path}: ${message}`, ExitCode.Usage, options);
    this.name = 'InputFileError';
    this.path = path;
  }
}
