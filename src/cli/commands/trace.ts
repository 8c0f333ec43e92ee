import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { type Consumer, targetKey } from '../../core/target.js';
import {
  type AuditLogEvent,
  parseTime,
  RESULT_DETAIL_TYPE,
  readAuditLog,
  supersededText,
} from '../audit-log.js';
import { type CommandContext, DEFAULT_WAIT_TIME_SECONDS, HOLD_SECONDS } from '../context.js';
import type { DescribedMessage } from '../dlq-entry.js';
import { awsCall, ExitCode, UsageError } from '../errors.js';
import { ReplayAttribute, stringAttribute } from '../message-attributes.js';
import { printJson } from '../output.js';
import { collectDlq } from '../selection.js';
import { type CommandRunner, commonOptions, fromStage } from './common.js';
import { requireAws } from './console.js';

/** A dead-letter copy of the decision, with its `revoker.*` story. */
export interface DeadLetterCopy {
  messageId: string;
  outcome: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  failedAt: string | null;
  receiveCount: number | null;
  replayCount: number;
  replayedBy: string | null;
  replayedAt: string | null;
  replayReason: string | null;
  redrivenBySqs: boolean;
}

/** The idempotency store's items for the decision and its target. */
export interface StoreRecord {
  table: string;
  decision: {
    status: string | null;
    leaseUntil: string | null;
    owner: string | null;
    resolution: unknown;
    expiresAt: string | null;
  } | null;
  target: { key: string; confirmedAt: string | null; byEventId: string | null } | null;
}

export interface TimelineEntry {
  at: string | null;
  source: 'request' | 'audit' | 'dlq' | 'replay' | 'store';
  text: string;
}

export interface TraceReport {
  eventId: string;
  range: { since: string; until: string };
  auditEvents: (AuditLogEvent['detail'] & { time: string })[];
  deadLetterCopies: DeadLetterCopy[];
  /** Null when no table is known (no stage output, no --table-name). */
  store: StoreRecord | { error: string } | null;
  timeline: TimelineEntry[];
}

export interface TraceOptions {
  eventId: string;
  logGroup: string;
  dlqUrl: string;
  tableName?: string;
  since: number;
  until: number;
}

const iso = (ms: number | undefined): string | null =>
  ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

const copyOf = ({ entry, flat }: DescribedMessage): DeadLetterCopy => ({
  messageId: entry.messageId,
  outcome: entry.outcome,
  errorCode: entry.errorCode,
  errorMessage: entry.errorMessage,
  failedAt: entry.failedAt,
  receiveCount: entry.receiveCount,
  replayCount: entry.replayCount,
  replayedBy: stringAttribute(flat, ReplayAttribute.ReplayedBy),
  replayedAt: stringAttribute(flat, ReplayAttribute.ReplayedAt),
  replayReason: stringAttribute(flat, ReplayAttribute.ReplayReason),
  redrivenBySqs: entry.redrivenBySqs,
});

/** The target's store key, from an audit event (`consumer` and `consumerAccountId`). */
const targetKeyOf = (events: readonly AuditLogEvent[]): string | null => {
  for (const { detail } of events) {
    const c = detail.consumer;
    if (!detail.dataShareArn || !c) continue;
    const consumer: Consumer | undefined = c.arn
      ? { kind: 'namespace', arn: c.arn }
      : c.region
        ? { kind: 'region', region: c.region }
        : c.entireAccount
          ? { kind: 'account' }
          : undefined;
    if (!consumer) continue;
    return targetKey({
      dataShareArn: detail.dataShareArn,
      consumer,
      accountId: detail.consumerAccountId ?? '',
    });
  }
  return null;
};

const readStore = async (
  context: CommandContext,
  table: string,
  eventId: string,
  key: string | null,
): Promise<StoreRecord> => {
  const dynamo = requireAws(context).dynamoDb(context.connection ?? {});
  const get = (id: string) =>
    awsCall('DynamoDB', 'GetItem', table, () =>
      dynamo.send(
        new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }),
        context.signal ? { abortSignal: context.signal } : {},
      ),
    );
  try {
    const [decision, target] = await Promise.all([
      get(`event#${eventId}`),
      key ? get(`target#${key}`) : Promise.resolve(undefined),
    ]);
    const d = decision.Item;
    const t = target?.Item;
    let resolution: unknown = d?.resolution?.S ?? null;
    try {
      if (typeof resolution === 'string') resolution = JSON.parse(resolution);
    } catch {
      // Kept as the raw text: the trace shows what is stored.
    }
    return {
      table,
      decision: d
        ? {
            status: d.status?.S ?? null,
            leaseUntil: iso(d.leaseUntil?.N ? Number(d.leaseUntil.N) : undefined),
            owner: d.owner?.S ?? null,
            resolution,
            expiresAt: iso(d.expiration?.N ? Number(d.expiration.N) * 1000 : undefined),
          }
        : null,
      target:
        key === null
          ? null
          : {
              key,
              confirmedAt: iso(t?.confirmedAt?.N ? Number(t.confirmedAt.N) : undefined),
              byEventId: t?.eventId?.S ?? null,
            },
    };
  } finally {
    dynamo.destroy();
  }
};

const auditText = (d: AuditLogEvent['detail']): string =>
  [
    `${d.outcome ?? '?'}`,
    d.error ? `${d.error.code}: ${d.error.message}` : '',
    `attempts ${d.attempts ?? 0}, receive ${d.receiveCount ?? '?'}`,
    d.replayed ? 'replayed' : '',
    d.satisfiedBy ? `satisfied by ${d.satisfiedBy}` : '',
    d.supersededBy ? `superseded: the grant is ${supersededText(d.supersededBy)}` : '',
    d.consumerAccountId ? `account ${d.consumerAccountId}` : '',
    d.actor ? `as ${d.actor.roleArn ?? d.actor.accountId}` : '',
    d.redshiftRequestId ? `Redshift request ${d.redshiftRequestId}` : '',
    d.messageId ? `message ${d.messageId}` : '',
  ]
    .filter(Boolean)
    .join('; ');

/** Orders everything known into one timeline (entries without a time last). */
export const timelineOf = (report: Omit<TraceReport, 'timeline'>): TimelineEntry[] => {
  const entries: TimelineEntry[] = [];
  const issued = report.auditEvents.find((e) => e.issuedAt)?.issuedAt ?? null;
  if (issued) {
    const policy = report.auditEvents.find((e) => e.policyId)?.policyId;
    entries.push({
      at: issued,
      source: 'request',
      text: `issued${policy ? ` by policy ${policy}` : ''}`,
    });
  }
  for (const e of report.auditEvents) {
    entries.push({ at: e.processedAt ?? e.time, source: 'audit', text: `audited ${auditText(e)}` });
  }
  for (const c of report.deadLetterCopies) {
    entries.push({
      at: c.failedAt,
      source: 'dlq',
      text: c.redrivenBySqs
        ? `moved to the DLQ by SQS, no reason recorded (copy ${c.messageId})`
        : `dead-lettered ${c.outcome ?? '?'} ${c.errorCode ?? ''}: ${c.errorMessage ?? ''} (copy ${c.messageId}, receive ${c.receiveCount ?? '?'}, ${c.replayCount} earlier replay(s))`,
    });
    if (c.replayedAt) {
      entries.push({
        at: c.replayedAt,
        source: 'replay',
        text: `replayed by ${c.replayedBy ?? '?'}${c.replayReason ? `: ${c.replayReason}` : ''} (replay ${c.replayCount})`,
      });
    }
  }
  const store = report.store;
  if (store && 'table' in store) {
    if (store.target?.confirmedAt) {
      entries.push({
        at: store.target.confirmedAt,
        source: 'store',
        text: `target confirmed revoked by ${store.target.byEventId ?? '?'}`,
      });
    }
    entries.push({
      at: null,
      source: 'store',
      text: store.decision
        ? `store: ${store.decision.status ?? '?'}${store.decision.leaseUntil && store.decision.status === 'IN_PROGRESS' ? `, lease until ${store.decision.leaseUntil} (${store.decision.owner ?? '?'})` : ''}${store.decision.resolution ? `, resolution ${JSON.stringify(store.decision.resolution)}` : ''}, expires ${store.decision.expiresAt ?? '?'}`
        : 'store: no record (never claimed, expired, or forgotten after an audited FAILED)',
    });
  }
  return entries.sort((a, b) =>
    a.at === null ? 1 : b.at === null ? -1 : a.at.localeCompare(b.at),
  );
};

/**
 * `revoker trace <eventId>`: everything known about one decision — its audit events, its DLQ
 * copies and replays, its store record and its target's confirmation — as one timeline.
 * Exit 1 when nothing at all was found.
 */
export const traceDecision = async (
  context: CommandContext,
  options: TraceOptions,
): Promise<{ exitCode: number; report: TraceReport }> => {
  const { output } = context;
  const logs = requireAws(context).logs(context.connection ?? {});
  let events: AuditLogEvent[];
  try {
    const read = await readAuditLog(logs, {
      logGroup: options.logGroup,
      startTime: options.since,
      endTime: options.until,
      detailEquals: { eventId: options.eventId },
      ...(context.signal && { signal: context.signal }),
    });
    events = read.events.filter(
      (e) => e.detailType === RESULT_DETAIL_TYPE && e.detail.eventId === options.eventId,
    );
  } finally {
    logs.destroy();
  }
  const { found } = await collectDlq(context, {
    dlqUrl: options.dlqUrl,
    holdSeconds: HOLD_SECONDS.list,
    waitTimeSeconds: DEFAULT_WAIT_TIME_SECONDS,
    select: (described) => described.entry.eventId === options.eventId,
  });
  let store: TraceReport['store'] = null;
  if (options.tableName !== undefined) {
    try {
      store = await readStore(context, options.tableName, options.eventId, targetKeyOf(events));
    } catch (error) {
      store = { error: error instanceof Error ? error.message : String(error) };
    }
  }
  const partial = {
    eventId: options.eventId,
    range: {
      since: new Date(options.since).toISOString(),
      until: new Date(options.until).toISOString(),
    },
    auditEvents: events.map((e) => ({ ...e.detail, time: new Date(e.timestamp).toISOString() })),
    deadLetterCopies: found.map(copyOf),
    store,
  };
  const report: TraceReport = { ...partial, timeline: timelineOf(partial) };
  const nothing =
    report.auditEvents.length === 0 &&
    report.deadLetterCopies.length === 0 &&
    (store === null || 'error' in store || store.decision === null);
  if (output.json) printJson(output, report);
  else {
    output.result(
      `eventId ${options.eventId} (audit ${report.range.since} → ${report.range.until})`,
    );
    for (const entry of report.timeline) {
      output.result(`${(entry.at ?? 'now').padEnd(24)}  ${entry.source.padEnd(7)}  ${entry.text}`);
    }
    if (store && 'error' in store) output.result(`store: unknown: ${store.error}`);
    if (store === null)
      output.result('store: not read (no IdempotencyTableName output, no --table-name)');
    if (nothing) output.result('nothing found: check the eventId, --since and the stage');
  }
  return { exitCode: nothing ? ExitCode.Failed : ExitCode.Ok, report };
};

interface TraceFlags {
  logGroup: string;
  dlqUrl: string;
  tableName?: string;
  since?: string;
  until?: string;
}

export const registerTrace = (program: Command, run: CommandRunner): void => {
  commonOptions(
    program
      .command('trace')
      .summary("one decision's whole story: audit events, DLQ copies and replays, store record")
      .usage('<eventId> --stage NAME [--since TIME] [--json]')
      .argument('<eventId>', 'the decision to trace')
      .option('--log-group <name>', `the audit log group ${fromStage('--log-group')}`)
      .option('--dlq-url <url>', `the dead-letter queue ${fromStage('--dlq-url')}`)
      .option('--table-name <name>', `the idempotency table ${fromStage('--table-name')}`)
      .option(
        '--since <time>',
        'search the audit log from (ISO-8601, a date, or 30d ago; default 30d)',
      )
      .option('--until <time>', 'to (default now)'),
  )
    .addHelpText(
      'after',
      `
Reads the audit log group (FilterLogEvents on detail.eventId), the DLQ without consuming it, and
the idempotency table (GetItem of event#<eventId> and of the target's confirmation). In hub mode
each audit line names the account, the role it acted as and the Redshift request id. Exit code 1
when nothing is found.

Examples:
  $ revoker trace pol-7/decision/0001 --stage prod
  $ revoker trace pol-7/decision/0001 --stage prod --since 2026-07-01 --json | jq .timeline`,
    )
    .action(
      run(async (context, flags: TraceFlags, [eventId]) => {
        if (!eventId || eventId.trim() === '')
          throw new UsageError("trace needs an eventId, '' given");
        const now = context.now();
        const result = await traceDecision(context, {
          eventId,
          logGroup: flags.logGroup,
          dlqUrl: flags.dlqUrl,
          ...(flags.tableName !== undefined && { tableName: flags.tableName }),
          since: flags.since ? parseTime('--since', flags.since, now) : now - 30 * 86_400_000,
          until: flags.until ? parseTime('--until', flags.until, now) : now,
        });
        return result.exitCode;
      }),
    );
};
