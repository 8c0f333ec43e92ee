import cliProgress from 'cli-progress';

/**
 * Where a command writes. Results (tables, JSON) go to stdout; progress, warnings and prompts to
 * stderr, so `--json` output can be piped to `jq` while the operator still sees what happens.
 */
export interface Output {
  /** `--json`: stdout carries exactly one JSON document. */
  readonly json: boolean;
  /** A line (or block) of results, on stdout. */
  result(text: string): void;
  /** A notice, warning or progress line, on stderr. */
  note(text: string): void;
  /** stderr, when it is a terminal: a live progress bar is drawn on it. */
  readonly progressStream?: NodeJS.WritableStream;
}

/** The process's own stdout/stderr. */
export const processOutput = (json: boolean): Output => ({
  json,
  result: (text) => process.stdout.write(`${text}\n`),
  note: (text) => process.stderr.write(`${text}\n`),
  ...(process.stderr.isTTY && { progressStream: process.stderr }),
});

/** Prints a value as the command's JSON document. */
export const printJson = (output: Output, value: unknown): void =>
  output.result(JSON.stringify(value, null, 2));

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Longer cells are cut with `…`, so one long error cannot push the table off the screen. */
  maxWidth?: number;
}

const truncate = (text: string, width: number): string =>
  text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;

/** A plain-text table with a header row; cells are single-line. */
export const renderTable = <T>(columns: readonly Column<T>[], rows: readonly T[]): string => {
  const cells = rows.map((row) =>
    columns.map((column) => {
      const text = column.value(row).replace(/\s+/g, ' ');
      return column.maxWidth ? truncate(text, column.maxWidth) : text;
    }),
  );
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((row) => row[index]?.length ?? 0)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...cells.map(line)].join('\n');
};

/** `42s`, `7m`, `3h`, `2d`. */
export const formatAge = (seconds: number | null): string => {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
};

export interface Progress {
  /** `by` more items done; `status` says what just happened. */
  advance(by: number, status: string): void;
  stop(): void;
}

/**
 * Progress on stderr: a cli-progress bar when stderr is a terminal, one plain line per step
 * otherwise (CI logs and pipes cannot redraw a bar).
 */
export const startProgress = (output: Output, label: string, total: number): Progress => {
  if (output.progressStream) {
    const bar = new cliProgress.SingleBar(
      {
        stream: output.progressStream,
        format: `${label} [{bar}] {value}/{total} {status}`,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { status: '' });
    return {
      advance: (by, status) => bar.increment(by, { status }),
      stop: () => bar.stop(),
    };
  }
  let done = 0;
  return {
    advance: (by, status) => {
      done += by;
      output.note(`${label}: ${done}/${total} ${status}`.trimEnd());
    },
    stop: () => {},
  };
};

/** Progress of a read of unknown length (pages), on stderr only. */
export interface PageProgress {
  update(text: string): void;
  done(): void;
}

/**
 * Page-by-page progress on stderr: redrawn in place when stderr is a terminal, one line per page
 * when `force` (`--progress`) and stderr is not, nothing otherwise — stdout is never touched.
 */
export const pageProgress = (output: Output, label: string, force: boolean): PageProgress => {
  const stream = output.progressStream;
  if (stream) {
    let drawn = false;
    return {
      update: (text) => {
        drawn = true;
        stream.write(`\r\u001b[2K${label}: ${text}`);
      },
      done: () => {
        if (drawn) stream.write('\n');
      },
    };
  }
  if (force) return { update: (text) => output.note(`${label}: ${text}`), done: () => {} };
  return { update: () => {}, done: () => {} };
};
