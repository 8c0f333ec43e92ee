import type { DecisionRow } from './decisions.js';

/** The percentile definition the report uses, stated in every summary. */
export const PERCENTILE_DEFINITION =
  'nearest rank: the smallest time such that at least p% of the enforced decisions took no longer (ceil(p/100 × n)-th of n sorted)';

/**
 * The nearest-rank percentile of ascending `sorted` values: the ⌈p/100 × n⌉-th smallest. Always
 * one of the values (never interpolated), so an auditor can find the decision behind it.
 */
export const nearestRank = (sorted: readonly number[], p: number): number | null => {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
};

/** A histogram bin of time to enforce: [fromMs, toMs). */
export interface HistogramBin {
  label: string;
  fromMs: number;
  /** Exclusive; null for the last, open bin. */
  toMs: number | null;
  count: number;
}

const BIN_EDGES: readonly [string, number][] = [
  ['< 1 s', 0],
  ['1–5 s', 1_000],
  ['5–15 s', 5_000],
  ['15–60 s', 15_000],
  ['1–5 min', 60_000],
  ['5–15 min', 300_000],
  ['15–60 min', 900_000],
  ['1–6 h', 3_600_000],
  ['6–24 h', 21_600_000],
  ['≥ 24 h', 86_400_000],
];

export interface ReportSummary {
  decisions: number;
  byOutcome: Record<string, number>;
  byPolicy: Record<string, { decisions: number; byOutcome: Record<string, number> }>;
  timeToEnforce: {
    definition: string;
    /** Decisions with a time to enforce (REVOKED, ALREADY_REVOKED). */
    count: number;
    p50Ms: number | null;
    p95Ms: number | null;
    p99Ms: number | null;
    maxMs: number | null;
  };
  histogram: HistogramBin[];
}

const bump = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Counts by outcome and by policy, the time-to-enforce percentiles and histogram. */
export const summarize = (rows: readonly DecisionRow[]): ReportSummary => {
  const byOutcome: Record<string, number> = {};
  const byPolicy: ReportSummary['byPolicy'] = {};
  const times: number[] = [];
  for (const row of rows) {
    bump(byOutcome, row.outcome);
    const policy = row.policyId ?? '(none)';
    const entry = byPolicy[policy] ?? { decisions: 0, byOutcome: {} };
    entry.decisions += 1;
    bump(entry.byOutcome, row.outcome);
    byPolicy[policy] = entry;
    if (row.timeToEnforceMs !== null) times.push(Math.max(0, row.timeToEnforceMs));
  }
  times.sort((a, b) => a - b);
  const histogram = BIN_EDGES.map(([label, fromMs], index) => {
    const toMs = BIN_EDGES[index + 1]?.[1] ?? null;
    return {
      label,
      fromMs,
      toMs,
      count: times.filter((t) => t >= fromMs && (toMs === null || t < toMs)).length,
    };
  });
  return {
    decisions: rows.length,
    byOutcome,
    byPolicy,
    timeToEnforce: {
      definition: PERCENTILE_DEFINITION,
      count: times.length,
      p50Ms: nearestRank(times, 50),
      p95Ms: nearestRank(times, 95),
      p99Ms: nearestRank(times, 99),
      maxMs: times.at(-1) ?? null,
    },
    histogram,
  };
};

/** `850 ms`, `12.4 s`, `3.2 min`, `1.5 h`: a duration for people (the JSON keeps milliseconds). */
export const formatDuration = (ms: number | null): string => {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
};
