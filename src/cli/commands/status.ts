import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  StateValue,
} from '@aws-sdk/client-cloudwatch';
import type { Command } from 'commander';
import { RESULT_DETAIL_TYPE, readAuditLog } from '../audit-log.js';
import { type CommandContext, DEFAULT_WAIT_TIME_SECONDS, HOLD_SECONDS } from '../context.js';
import { awsCall, ExitCode, UsageError } from '../errors.js';
import { formatAge, printJson } from '../output.js';
import { collectDlq } from '../selection.js';
import { getQueueAttributes } from '../sqs.js';
import { type CommandRunner, commonOptions, fromStage, parseCount } from './common.js';
import { requireAws } from './console.js';

/** One part of the status screen: its value, or why it could not be read. */
export type Section<T> = { ok: true; value: T } | { ok: false; error: string };

export interface QueueStatus {
  queueUrl: string;
  visible: number;
  inFlight: number;
  delayed: number;
  /** CloudWatch's ApproximateAgeOfOldestMessage (latest minute), seconds; null: no datapoint. */
  oldestMessageAgeSeconds: Section<number | null>;
}

export interface DlqStatus {
  queueUrl: string;
  /** ApproximateNumberOfMessages (visible). */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible: held by a reader (another `dlq list`, a replay). */
  inFlight: number;
  /** Messages read (without consuming them) and grouped by `revoker.errorCode`. */
  byErrorCode: Record<string, number>;
  /** The grouping read at most this many; more may remain. */
  truncated: boolean;
}

export interface AuditStatus {
  logGroup: string;
  /** The window of the counts: the last hour. */
  since: string;
  byOutcome: Record<string, number>;
  lastEvent: { time: string; eventId: string | null; outcome: string } | null;
  /** The last event of another detail-type on the audit bus (breaker, pause, resume). */
  lastControlEvent: { time: string; detailType: string } | null;
}

export interface AlarmStatus {
  name: string;
  reason: string;
  since: string | null;
}

export interface StatusReport {
  at: string;
  stage: string | null;
  /** Lambda's event source mapping and the breaker: pending the guardrails work. */
  worker: Section<{ functionName: string | null }>;
  sourceQueue: Section<QueueStatus>;
  deadLetterQueue: Section<DlqStatus>;
  audit: Section<AuditStatus>;
  alarmsInAlarm: Section<AlarmStatus[]>;
}

export interface StatusOptions {
  queueUrl: string;
  dlqUrl: string;
  logGroup: string;
  functionName?: string;
  alarmTopicArn?: string;
  /** DLQ messages read for the error-code grouping at most (default 1,000). */
  dlqMax?: number;
}

const HOUR_MS = 3_600_000;
const NO_ERROR_CODE = '(none recorded)';

const settle = async <T>(read: () => Promise<T>): Promise<Section<T>> => {
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
};

const queueName = (queueUrl: string): string => new URL(queueUrl).pathname.split('/').pop() ?? '';

const readSourceQueue = async (context: CommandContext, options: StatusOptions) => {
  const attributes = await getQueueAttributes(context.sqs, options.queueUrl, [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
    'ApproximateNumberOfMessagesDelayed',
  ]);
  const aws = requireAws(context);
  // SQS reports no age itself: CloudWatch's per-minute metric is the source AWS documents.
  const oldestMessageAgeSeconds = await settle(async () => {
    const cloudWatch = aws.cloudWatch(context.connection ?? {});
    try {
      const now = context.now();
      const output = await awsCall('CloudWatch', 'GetMetricData', queueName(options.queueUrl), () =>
        cloudWatch.send(
          new GetMetricDataCommand({
            StartTime: new Date(now - 10 * 60_000),
            EndTime: new Date(now),
            ScanBy: 'TimestampDescending',
            MetricDataQueries: [
              {
                Id: 'oldest',
                MetricStat: {
                  Metric: {
                    Namespace: 'AWS/SQS',
                    MetricName: 'ApproximateAgeOfOldestMessage',
                    Dimensions: [{ Name: 'QueueName', Value: queueName(options.queueUrl) }],
                  },
                  Period: 60,
                  Stat: 'Maximum',
                },
              },
            ],
          }),
          context.signal ? { abortSignal: context.signal } : {},
        ),
      );
      const value = output.MetricDataResults?.[0]?.Values?.[0];
      return value === undefined ? null : Math.round(value);
    } finally {
      cloudWatch.destroy();
    }
  });
  return {
    queueUrl: options.queueUrl,
    visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    oldestMessageAgeSeconds,
  };
};

const readDeadLetterQueue = async (
  context: CommandContext,
  options: StatusOptions,
): Promise<DlqStatus> => {
  const attributes = await getQueueAttributes(context.sqs, options.dlqUrl, [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
  ]);
  const visible = Number(attributes.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  const limit = options.dlqMax ?? 1000;
  const byErrorCode: Record<string, number> = {};
  let read = 0;
  if (visible > 0) {
    // Read without consuming (held briefly, then visible again), as `dlq list` does.
    const { found } = await collectDlq(context, {
      dlqUrl: options.dlqUrl,
      holdSeconds: HOLD_SECONDS.list,
      waitTimeSeconds: DEFAULT_WAIT_TIME_SECONDS,
      select: () => true,
      limit,
    });
    read = found.length;
    for (const { entry } of found) {
      const code = entry.errorCode ?? (entry.redrivenBySqs ? 'redriven by SQS' : NO_ERROR_CODE);
      byErrorCode[code] = (byErrorCode[code] ?? 0) + 1;
    }
  }
  return { queueUrl: options.dlqUrl, visible, inFlight, byErrorCode, truncated: read >= limit };
};

const readAudit = async (context: CommandContext, options: StatusOptions): Promise<AuditStatus> => {
  const logs = requireAws(context).logs(context.connection ?? {});
  const now = context.now();
  try {
    const { events } = await readAuditLog(logs, {
      logGroup: options.logGroup,
      startTime: now - HOUR_MS,
      endTime: now,
      ...(context.signal && { signal: context.signal }),
    });
    const results = events.filter((e) => e.detailType === RESULT_DETAIL_TYPE);
    const control = events.filter((e) => e.detailType !== RESULT_DETAIL_TYPE);
    const byOutcome: Record<string, number> = {};
    for (const e of results) {
      const outcome = e.detail.outcome ?? 'UNKNOWN';
      byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
    }
    const last = results.at(-1);
    const lastControl = control.at(-1);
    return {
      logGroup: options.logGroup,
      since: new Date(now - HOUR_MS).toISOString(),
      byOutcome,
      lastEvent: last
        ? {
            time: new Date(last.timestamp).toISOString(),
            eventId: typeof last.detail.eventId === 'string' ? last.detail.eventId : null,
            outcome: last.detail.outcome ?? 'UNKNOWN',
          }
        : null,
      lastControlEvent: lastControl
        ? {
            time: new Date(lastControl.timestamp).toISOString(),
            detailType: lastControl.detailType,
          }
        : null,
    };
  } finally {
    logs.destroy();
  }
};

const readAlarms = async (
  context: CommandContext,
  options: StatusOptions,
): Promise<AlarmStatus[]> => {
  const prefix = options.alarmTopicArn;
  if (prefix === undefined) {
    throw new UsageError('no alarm topic: give --alarm-topic-arn, or a stage with AlarmTopicArn');
  }
  const cloudWatch = requireAws(context).cloudWatch(context.connection ?? {});
  try {
    const alarms: AlarmStatus[] = [];
    let nextToken: string | undefined;
    do {
      const output = await awsCall('CloudWatch', 'DescribeAlarms', prefix, () =>
        cloudWatch.send(
          new DescribeAlarmsCommand({
            StateValue: StateValue.ALARM,
            // Our alarms notify the stack's topic (infra/alarms.yml): that finds exactly them.
            ActionPrefix: prefix,
            ...(nextToken !== undefined && { NextToken: nextToken }),
          }),
          context.signal ? { abortSignal: context.signal } : {},
        ),
      );
      for (const alarm of [...(output.MetricAlarms ?? []), ...(output.CompositeAlarms ?? [])]) {
        alarms.push({
          name: alarm.AlarmName ?? '?',
          reason: alarm.StateReason ?? '',
          since: alarm.StateUpdatedTimestamp?.toISOString() ?? null,
        });
      }
      nextToken = output.NextToken;
    } while (nextToken);
    return alarms;
  } finally {
    cloudWatch.destroy();
  }
};

/**
 * Reads everything `revoker status` shows. Each part is read independently: one that fails
 * (no permission, an unreachable service) says why and the others are still shown.
 */
export const readStatus = async (
  context: CommandContext,
  options: StatusOptions,
): Promise<StatusReport> => {
  const [sourceQueue, deadLetterQueue, audit, alarmsInAlarm] = await Promise.all([
    settle(() => readSourceQueue(context, options)),
    settle(() => readDeadLetterQueue(context, options)),
    settle(() => readAudit(context, options)),
    settle(() => readAlarms(context, options)),
  ]);
  return {
    at: new Date(context.now()).toISOString(),
    stage: context.stage?.stage ?? null,
    worker: { ok: true, value: { functionName: options.functionName ?? null } },
    sourceQueue,
    deadLetterQueue,
    audit,
    alarmsInAlarm,
  };
};

const counts = (byKey: Record<string, number>): string =>
  Object.keys(byKey).length === 0
    ? 'none'
    : Object.entries(byKey)
        .sort(([, a], [, b]) => b - a)
        .map(([key, n]) => `${key} ${n}`)
        .join(', ');

const line = <T>(label: string, section: Section<T>, render: (value: T) => string): string =>
  `${label.padEnd(14)}${section.ok ? render(section.value) : `unknown: ${section.error}`}`;

/** The status as the one screen an on-call reads. */
export const renderStatus = (status: StatusReport): string =>
  [
    `datashare-revoker${status.stage ? ` stage ${status.stage}` : ''} at ${status.at}`,
    line('worker', status.worker, (w) => `function ${w.functionName ?? '(not given)'}`),
    line(
      'source queue',
      status.sourceQueue,
      (q) =>
        `${q.visible} visible, ${q.inFlight} in flight, ${q.delayed} delayed; oldest ${
          q.oldestMessageAgeSeconds.ok
            ? formatAge(q.oldestMessageAgeSeconds.value)
            : `unknown (${q.oldestMessageAgeSeconds.error})`
        }`,
    ),
    line(
      'DLQ',
      status.deadLetterQueue,
      (d) =>
        `${d.visible} message(s)${d.visible > 0 ? `: ${counts(d.byErrorCode)}${d.truncated ? ' (first ones only)' : ''}` : ''}${d.inFlight > 0 ? `; ${d.inFlight} more held by a reader (a dlq list or replay running now)` : ''}`,
    ),
    line(
      'audit, 1 h',
      status.audit,
      (a) =>
        `${counts(a.byOutcome)}; last ${a.lastEvent ? `${a.lastEvent.time} ${a.lastEvent.outcome} ${a.lastEvent.eventId ?? '(no eventId)'}` : 'none in the last hour'}${a.lastControlEvent ? `; last control event ${a.lastControlEvent.time} ${a.lastControlEvent.detailType}` : ''}`,
    ),
    line('alarms', status.alarmsInAlarm, (alarms) =>
      alarms.length === 0
        ? 'none in ALARM'
        : alarms.map((a) => `${a.name} (since ${a.since ?? '?'}: ${a.reason})`).join('; '),
    ),
  ].join('\n');

const sleepUnlessAborted = async (context: CommandContext, ms: number): Promise<boolean> => {
  try {
    await context.sleep(ms, context.signal);
    return !context.signal?.aborted;
  } catch {
    return false;
  }
};

/**
 * `revoker status`: one screen — worker, source queue, DLQ by error code, the last hour of audit
 * events, alarms in ALARM. `watchSeconds` redraws it every N seconds until Ctrl-C. Exit 1 when a
 * part could not be read.
 */
export const showStatus = async (
  context: CommandContext,
  options: StatusOptions & { watchSeconds?: number },
): Promise<{ exitCode: number; status: StatusReport }> => {
  const { output } = context;
  for (;;) {
    const status = await readStatus(context, options);
    if (output.json) {
      // --watch --json: one document per refresh, one per line (JSON Lines).
      if (options.watchSeconds === undefined) printJson(output, status);
      else output.result(JSON.stringify(status));
    } else {
      if (options.watchSeconds !== undefined && output.progressStream)
        output.result('\u001b[2J\u001b[H');
      output.result(renderStatus(status));
    }
    const failed = [
      status.sourceQueue,
      status.deadLetterQueue,
      status.audit,
      status.alarmsInAlarm,
    ].some((s) => !s.ok);
    const exitCode = failed ? ExitCode.Failed : ExitCode.Ok;
    if (options.watchSeconds === undefined) return { exitCode, status };
    if (!output.json && !output.progressStream) output.result('');
    if (!(await sleepUnlessAborted(context, options.watchSeconds * 1000))) {
      return { exitCode, status };
    }
  }
};

interface StatusFlags {
  queueUrl: string;
  dlqUrl: string;
  logGroup: string;
  functionName?: string;
  alarmTopicArn?: string;
  watch?: number;
  dlqMax?: number;
}

export const registerStatus = (program: Command, run: CommandRunner): void => {
  commonOptions(
    program
      .command('status')
      .summary(
        'one screen for the on-call: worker, queues, DLQ by error, last hour of audit, alarms',
      )
      .usage('--stage NAME [--watch N] [--json]')
      .option('--queue-url <url>', `the source queue ${fromStage('--queue-url')}`)
      .option('--dlq-url <url>', `the dead-letter queue ${fromStage('--dlq-url')}`)
      .option('--log-group <name>', `the audit log group ${fromStage('--log-group')}`)
      .option('--function-name <name>', `the worker function ${fromStage('--function-name')}`)
      .option('--alarm-topic-arn <arn>', `the alarms' SNS topic ${fromStage('--alarm-topic-arn')}`)
      .option('--watch <seconds>', 'redraw every N seconds until Ctrl-C', (v) =>
        parseCount('--watch', v, 3600),
      )
      .option('--dlq-max <n>', 'DLQ messages read for the grouping at most (default 1000)', (v) =>
        parseCount('--dlq-max', v),
      ),
  )
    .addHelpText(
      'after',
      `
The DLQ is read without consuming it (as 'dlq list' does: each message is held 30 s and made
visible again at once). The oldest message's age is CloudWatch's ApproximateAgeOfOldestMessage.
Exit code 1 when a part could not be read (it says why).

Examples:
  $ revoker status --stage prod
  $ revoker status --stage prod --watch 10
  $ REVOKER_STAGE=prod revoker status --json | jq .deadLetterQueue`,
    )
    .action(
      run(async (context, flags: StatusFlags) => {
        const result = await showStatus(context, {
          queueUrl: flags.queueUrl,
          dlqUrl: flags.dlqUrl,
          logGroup: flags.logGroup,
          ...(flags.functionName !== undefined && { functionName: flags.functionName }),
          ...(flags.alarmTopicArn !== undefined && { alarmTopicArn: flags.alarmTopicArn }),
          ...(flags.watch !== undefined && { watchSeconds: flags.watch }),
          ...(flags.dlqMax !== undefined && { dlqMax: flags.dlqMax }),
        });
        return result.exitCode;
      }),
    );
};
