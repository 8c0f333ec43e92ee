import type { DecisionRow } from './decisions.js';
import type { ReportSummary } from './summary.js';

/** The compliance report: what `--format json` prints, and what every other format shows. */
export interface ComplianceReport {
  generatedAt: string;
  /** The stage it was read from (null when the log group was given explicitly). */
  stage: string | null;
  logGroup: string;
  range: { since: string; until: string };
  filters: { policy: string | null; outcome: string | null; account: string | null };
  /** Result events read in the range (after the policy and account filters). */
  auditEventsRead: number;
  /** Log events that were not an audit envelope (left out, and said). */
  unreadableLogEvents: number;
  summary: ReportSummary;
  rows: DecisionRow[];
}
