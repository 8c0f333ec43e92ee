/** The median of a non-empty list (the mean of the two middle values for an even count). */
export const median = (values: readonly number[]): number => quantile(values, 0.5);

/**
 * The `q` quantile by linear interpolation between closest ranks.
 *
 * @throws {RangeError} on an empty list.
 */
export const quantile = (values: readonly number[], q: number): number => {
  if (values.length === 0) throw new RangeError('quantile of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (position - lower);
};

/** Rounds to `digits` decimals (figures in results.json stay readable). */
export const round = (value: number, digits = 2): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** `a / b`, or `null` when `b` is 0 or either side is missing. */
export const ratio = (a: number | null, b: number | null): number | null =>
  a === null || b === null || b === 0 ? null : a / b;

/** Summary of a sample: what the report shows of repeated measurements. */
export interface Sample {
  runs: number;
  median: number;
  min: number;
  max: number;
  p90: number;
}

export const summarize = (values: readonly number[], digits = 2): Sample => ({
  runs: values.length,
  median: round(median(values), digits),
  min: round(Math.min(...values), digits),
  max: round(Math.max(...values), digits),
  p90: round(quantile(values, 0.9), digits),
});
