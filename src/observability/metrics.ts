import type { MetricName, Metrics } from '../worker/ports.js';

type Unit = 'Count' | 'Milliseconds';

/**
 * CloudWatch Embedded Metric Format: one JSON line per flush on stdout, which CloudWatch Logs turns
 * into metrics with no API call (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * Hand-written because the format is one small object and a metrics library would add to every
 * cold start; counts are summed per flush, latencies kept as value lists (at most 100, the limit).
 */
export class EmfMetrics implements Metrics {
  readonly #namespace: string;
  readonly #dimensions: Record<string, string>;
  readonly #write: (line: string) => void;
  readonly #values = new Map<MetricName, { unit: Unit; values: number[] }>();

  constructor(options: {
    namespace: string;
    dimensions: Record<string, string>;
    write?: (line: string) => void;
  }) {
    this.#namespace = options.namespace;
    this.#dimensions = options.dimensions;
    this.#write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  add(name: MetricName, value: number, unit: Unit = 'Count'): void {
    const entry = this.#values.get(name) ?? { unit, values: [] };
    if (unit === 'Count') entry.values = [(entry.values[0] ?? 0) + value];
    else if (entry.values.length < 100) entry.values.push(value);
    this.#values.set(name, entry);
  }

  flush(): void {
    if (this.#values.size === 0) return;
    const metrics = [...this.#values].map(([name, { unit }]) => ({ Name: name, Unit: unit }));
    const values = Object.fromEntries(
      [...this.#values].map(([name, { values }]) => [
        name,
        values.length === 1 ? values[0] : values,
      ]),
    );
    this.#values.clear();
    this.#write(
      JSON.stringify({
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            {
              Namespace: this.#namespace,
              Dimensions: [Object.keys(this.#dimensions)],
              Metrics: metrics,
            },
          ],
        },
        ...this.#dimensions,
        ...values,
      }),
    );
  }
}
