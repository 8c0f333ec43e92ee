import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Outcome } from '../../core/outcome.js';
import { type AuditLogEvent, parseTime, RESULT_DETAIL_TYPE, readAuditLog } from '../audit-log.js';
import type { CommandContext } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { type Column, pageProgress, renderTable } from '../output.js';
import { toCsv } from '../report/csv.js';
import { type DecisionRow, decisionsOf } from '../report/decisions.js';
import { toHtml } from '../report/html.js';
import type { ComplianceReport } from '../report/report-document.js';
import { formatDuration, summarize } from '../report/summary.js';
import { type CommandRunner, commonOptions, fromStage } from './common.js';
import { requireAws } from './console.js';

/** The outcomes a decision can end with (src/core/outcome.ts). */
export const KNOWN_OUTCOMES: readonly string[] = Object.values(Outcome);

export const REPORT_FORMATS = ['table', 'csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  logGroup: string;
  since: number;
  until: number;
  policy?: string;
  outcomes?: readonly string[];
  account?: string;
  format: ReportFormat;
  out?: string;
  progress?: boolean;
}

export interface ReportResult {
  exitCode: number;
  report: ComplianceReport;
}

const TABLE_COLUMNS: readonly Column<DecisionRow>[] = [
  { header: 'EVENT ID', value: (r) => r.eventId ?? '-', maxWidth: 40 },
  { header: 'POLICY', value: (r) => r.policyId ?? '-', maxWidth: 24 },
  { header: 'OUTCOME', value: (r) => r.outcome },
  { header: 'ACCOUNT', value: (r) => r.account ?? '-' },
  { header: 'PROCESSED AT', value: (r) => r.processedAt ?? '-' },
  { header: 'TO ENFORCE', value: (r) => formatDuration(r.timeToEnforceMs) },
  { header: 'ATTEMPTS', value: (r) => String(r.attempts) },
  { header: 'REPLAYS', value: (r) => String(r.replays) },
  { header: 'TARGET', value: (r) => r.target ?? '-', maxWidth: 90 },
];

const renderText = (report: ComplianceReport): string => {
  const { summary } = report;
  const t = summary.timeToEnforce;
  const counts = Object.entries(summary.byOutcome)
    .map(([outcome, count]) => `${outcome} ${count}`)
    .join(', ');
  return [
    `Decisions ${report.range.since} → ${report.range.until} (${report.logGroup}): ${summary.decisions}${counts ? ` — ${counts}` : ''}`,
    `Time to enforce (${t.count} enforced): p50 ${formatDuration(t.p50Ms)}, p95 ${formatDuration(t.p95Ms)}, p99 ${formatDuration(t.p99Ms)}, max ${formatDuration(t.maxMs)} (nearest rank)`,
    ...Object.entries(summary.byPolicy).map(
      ([policy, p]) =>
        `  policy ${policy}: ${p.decisions} — ${Object.entries(p.byOutcome)
          .map(([o, c]) => `${o} ${c}`)
          .join(', ')}`,
    ),
    '',
    report.rows.length === 0
      ? '(no decision in the range)'
      : renderTable(TABLE_COLUMNS, report.rows),
  ].join('\n');
};

/**
 * `revoker report`: the compliance evidence for a period, from the audit log group — one row per
 * decision, counts by outcome and policy, time-to-enforce percentiles — as a table, CSV, JSON or
 * one self-contained HTML file.
 *
 * @throws {CliError} when the log group cannot be read.
 */
export const buildReport = async (
  context: CommandContext,
  options: ReportOptions,
): Promise<ReportResult> => {
  const { output } = context;
  if (options.since >= options.until) {
    throw new UsageError(
      `--since must be before --until, given ${new Date(options.since).toISOString()} and ${new Date(options.until).toISOString()}`,
    );
  }
  const aws = requireAws(context);
  const logs = aws.logs(context.connection ?? {});
  const progress = pageProgress(output, 'report', options.progress === true);
  let events: AuditLogEvent[];
  let unreadable: number;
  try {
    const read = await readAuditLog(logs, {
      logGroup: options.logGroup,
      startTime: options.since,
      endTime: options.until,
      detailEquals: {
        ...(options.policy !== undefined && { policyId: options.policy }),
        ...(options.account !== undefined && { consumerAccountId: options.account }),
      },
      ...(context.signal && { signal: context.signal }),
      onPage: (read, pages) => progress.update(`${read} audit event(s) read, ${pages} page(s)`),
    });
    events = read.events.filter((e) => e.detailType === RESULT_DETAIL_TYPE);
    unreadable = read.unreadable;
  } finally {
    progress.done();
    logs.destroy();
  }
  const outcomes = options.outcomes ? new Set(options.outcomes) : undefined;
  const rows = decisionsOf(events).filter((row) => !outcomes || outcomes.has(row.outcome));
  const report: ComplianceReport = {
    generatedAt: new Date(context.now()).toISOString(),
    stage: context.stage?.stage ?? null,
    logGroup: options.logGroup,
    range: {
      since: new Date(options.since).toISOString(),
      until: new Date(options.until).toISOString(),
    },
    filters: {
      policy: options.policy ?? null,
      outcome: options.outcomes ? options.outcomes.join(',') : null,
      account: options.account ?? null,
    },
    auditEventsRead: events.length,
    unreadableLogEvents: unreadable,
    summary: summarize(rows),
    rows,
  };
  const text =
    options.format === 'json'
      ? `${JSON.stringify(report, null, 2)}\n`
      : options.format === 'csv'
        ? toCsv(rows)
        : options.format === 'html'
          ? toHtml(report)
          : `${renderText(report)}\n`;
  if (options.out !== undefined) {
    try {
      await writeFile(options.out, text, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'Error';
      throw new UsageError(`cannot write --out ${options.out}: ${code}`, { cause: error });
    }
    output.note(`wrote ${options.out}: ${rows.length} decision(s), ${options.format}`);
  } else {
    output.result(text.replace(/\r?\n$/, ''));
  }
  if (unreadable > 0) {
    output.note(
      `warning: ${unreadable} log event(s) in ${options.logGroup} were not audit events and were left out`,
    );
  }
  return { exitCode: ExitCode.Ok, report };
};

interface ReportFlags {
  logGroup: string;
  since?: string;
  until?: string;
  policy?: string;
  outcome?: string;
  account?: string;
  format?: string;
  out?: string;
  progress?: boolean;
  json?: boolean;
}

const parseOutcomes = (value: string): string[] => {
  const outcomes = value.split(',').map((o) => o.trim().toUpperCase());
  for (const outcome of outcomes) {
    if (!KNOWN_OUTCOMES.includes(outcome)) {
      throw new UsageError(
        `--outcome must be one or more of ${KNOWN_OUTCOMES.join(', ')} (comma-separated), '${value}' given`,
      );
    }
  }
  return outcomes;
};

export const registerReport = (program: Command, run: CommandRunner): void => {
  commonOptions(
    program
      .command('report')
      .summary('compliance evidence for a period: every decision, counts, time to enforce')
      .usage(
        '(--stage NAME | --log-group NAME) [--since TIME] [--until TIME] [--policy ID] [--outcome O[,O]] [--account ID] [--format table|csv|json|html] [--out FILE] [--progress]',
      )
      .option('--log-group <name>', `the audit log group ${fromStage('--log-group')}`)
      .option('--since <time>', 'from (ISO-8601, a date, or 30m/24h/90d ago; default 24h)')
      .option('--until <time>', 'to (same forms; default now)')
      .option('--policy <id>', 'only decisions of this policyId')
      .option('--outcome <outcomes>', `only decisions that ended so (${KNOWN_OUTCOMES.join(', ')})`)
      .option('--account <id>', 'only decisions in this consumer account (12 digits)', (v) => {
        if (!/^\d{12}$/.test(v)) {
          throw new UsageError(`--account must be a 12-digit AWS account id, '${v}' given`);
        }
        return v;
      })
      .option('--format <format>', `${REPORT_FORMATS.join(' | ')} (default table; --json = json)`)
      .option('--out <file>', 'write the report to FILE instead of stdout')
      .option('--progress', 'print progress on stderr even when it is not a terminal'),
  )
    .addHelpText(
      'after',
      `
One row per decision (eventId) with an audit event in the range: policy, target, account, final
outcome, issuedAt, processedAt, time to enforce (REVOKED/ALREADY_REVOKED: processedAt − issuedAt),
attempts, satisfiedBy/supersededBy, replays, actor, Redshift request id. Percentiles are nearest
rank (always an observed value). The HTML is one file with no external asset.

Examples:
  $ revoker report --stage prod --since 2026-07-01 --until 2026-10-01 --format html --out q3.html
  $ revoker report --stage prod --since 7d --outcome FAILED,REJECTED
  $ revoker report --stage prod --since 90d --format csv --out q3.csv --progress`,
    )
    .action(
      run(async (context, flags: ReportFlags) => {
        const now = context.now();
        const format = flags.format ?? (flags.json ? 'json' : 'table');
        if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
          throw new UsageError(
            `--format must be one of ${REPORT_FORMATS.join(', ')}, '${format}' given`,
          );
        }
        const result = await buildReport(context, {
          logGroup: flags.logGroup,
          since: flags.since ? parseTime('--since', flags.since, now) : now - 86_400_000,
          until: flags.until ? parseTime('--until', flags.until, now) : now,
          ...(flags.policy !== undefined && { policy: flags.policy }),
          ...(flags.outcome !== undefined && { outcomes: parseOutcomes(flags.outcome) }),
          ...(flags.account !== undefined && { account: flags.account }),
          format: format as ReportFormat,
          ...(flags.out !== undefined && { out: flags.out }),
          progress: flags.progress === true,
        });
        return result.exitCode;
      }),
    );
};
