/**
 * On Lambda the worker writes to stdout, which CloudWatch Logs collects: its pino logs (straight
 * to the file descriptor of `process.stdout`, synchronously) and its Embedded Metric Format lines
 * (`process.stdout.write`). `npm start` keeps stdout for the summary, so that `--json` output
 * stays parseable: while the demo runs, the logs go to stderr and the EMF lines are summed into
 * the summary's worker metrics.
 */

/** One metric the worker emitted, summed over every EMF line. */
export interface WorkerMetric {
  unit: string;
  /** Sum of the values (for a count: the total). */
  sum: number;
  /** How many values were written (for `Milliseconds`: how many measurements). */
  samples: number;
  max: number;
}

export interface WorkerStdout {
  /** Metrics by name, e.g. `Revoked`, `DuplicatesSuppressed`, `Throttles`, `EnforcementLatency`. */
  metrics(): Record<string, WorkerMetric>;
  /** Gives `process.stdout.write` back. */
  restore(): void;
}

interface EmfLine {
  _aws: { CloudWatchMetrics: { Metrics: { Name: string; Unit?: string }[] }[] };
  [name: string]: unknown;
}

const isEmfLine = (value: unknown): value is EmfLine =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as { _aws?: { CloudWatchMetrics?: unknown } })._aws?.CloudWatchMetrics);

const parseJson = (line: string): unknown => {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
};

/**
 * Takes `process.stdout.write` over until `restore()`: EMF lines are summed, anything else is
 * passed to `forward` (stderr). Whoever prints the summary must hold a `write` bound before.
 */
export const routeWorkerStdout = (forward: (text: string) => void): WorkerStdout => {
  const metrics: Record<string, WorkerMetric> = {};
  const original = process.stdout.write;
  let partial = '';

  const take = (line: string): void => {
    const parsed = parseJson(line);
    if (!isEmfLine(parsed)) {
      forward(`${line}\n`);
      return;
    }
    for (const directive of parsed._aws.CloudWatchMetrics) {
      for (const { Name, Unit } of directive.Metrics) {
        const raw = parsed[Name];
        const values = (Array.isArray(raw) ? raw : [raw]).filter(
          (value): value is number => typeof value === 'number',
        );
        const metric = metrics[Name] ?? { unit: Unit ?? 'None', sum: 0, samples: 0, max: 0 };
        metrics[Name] = metric;
        for (const value of values) {
          metric.sum += value;
          metric.samples += 1;
          metric.max = Math.max(metric.max, value);
        }
      }
    }
  };

  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const text =
      typeof chunk === 'string'
        ? chunk
        : Buffer.from(chunk as Uint8Array).toString(
            typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
          );
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) take(line);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  };
  process.stdout.write = write as typeof process.stdout.write;

  return {
    metrics: () => structuredClone(metrics),
    restore: () => {
      if (partial !== '') take(partial);
      partial = '';
      if (process.stdout.write === (write as typeof process.stdout.write)) {
        process.stdout.write = original;
      }
    },
  };
};
