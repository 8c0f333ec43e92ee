import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  StateValue,
} from '@aws-sdk/client-cloudwatch';
import { ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import type { Command } from 'commander';
import { readBreakerState } from '../../adapters/breaker-record.js';
import { type BreakerView, viewBreaker } from '../../core/breaker.js';
import { RESULT_DETAIL_TYPE, readAuditLog } from '../audit-log.js';
import { type CommandContext, DEFAULT_WAIT_TIME_SECONDS, HOLD_SECONDS } from '../context.js';
import { awsCall, ExitCode, toCliError, UsageError } from '../errors.js';
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

/** The worker's event source mapping(s) on its queue, as Lambda reports them. */
export interface MappingStatus {
  uuid: string;
  /** `Enabled`, `Disabled` (paused), `Enabling`, `Disabling`, `Creating`, `Updating`, ... */
  state: string;
  /** Why Lambda last changed it: `User action`, ... */
  stateTransitionReason: string | null;
  lastModified: string | null;
}

export interface WorkerStatus {
  functionName: string | null;
  /** Null when the function or the source queue is not known. */
  mappings: Section<MappingStatus[]> | null;
  /** The breaker kept in the idempotency table; null when no table is known. */
  breaker: Section<BreakerView> | null;
}

export interface StatusReport {
  at: string;
  stage: string | null;
  worker: WorkerStatus;
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
  /** The idempotency table, where the breaker is kept. */
  tableName?: string;
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

const readMappings = async (
  context: CommandContext,
  functionName: string,
  queueUrl: string,
): Promise<MappingStatus[]> => {
  const { QueueArn: queueArn } = await getQueueAttributes(context.sqs, queueUrl, ['QueueArn']);
  if (!queueArn) throw new UsageError(`${queueUrl} did not report its QueueArn`);
  const lambda = requireAws(context).lambda(context.connection ?? {});
  try {
    const mappings: MappingStatus[] = [];
    let marker: string | undefined;
    do {
      const page = await awsCall('Lambda', 'ListEventSourceMappings', functionName, () =>
        lambda.send(
          new ListEventSourceMappingsCommand({
            FunctionName: functionName,
            EventSourceArn: queueArn,
            ...(marker !== undefined && { Marker: marker }),
          }),
          context.signal ? { abortSignal: context.signal } : {},
        ),
      );
      for (const m of page.EventSourceMappings ?? []) {
        mappings.push({
          uuid: m.UUID ?? '?',
          state: m.State ?? 'Unknown',
          stateTransitionReason: m.StateTransitionReason ?? null,
          lastModified: m.LastModified?.toISOString() ?? null,
        });
      }
      marker = page.NextMarker;
    } while (marker);
    if (mappings.length === 0) {
      throw new UsageError(`no event source mapping of ${functionName} on ${queueArn}`);
    }
    return mappings;
  } finally {
    lambda.destroy();
  }
};

const readBreaker = async (context: CommandContext, tableName: string): Promise<BreakerView> => {
  const dynamo = requireAws(context).dynamoDb(context.connection ?? {});
  try {
    const state = await readBreakerState(
      { client: dynamo, tableName },
      context.signal ?? AbortSignal.timeout(15_000),
    );
    // The window is known once it opened (it records it); closed, the record holds the window's.
    return viewBreaker(state, state.open?.windowSeconds, context.now());
  } catch (error) {
    throw toCliError(
      (error as { cause?: unknown }).cause ?? error,
      'GetItem',
      tableName,
      'DynamoDB',
    );
  } finally {
    dynamo.destroy();
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
  const { functionName, tableName } = options;
  const [sourceQueue, deadLetterQueue, audit, alarmsInAlarm, mappings, breaker] = await Promise.all(
    [
      settle(() => readSourceQueue(context, options)),
      settle(() => readDeadLetterQueue(context, options)),
      settle(() => readAudit(context, options)),
      settle(() => readAlarms(context, options)),
      functionName === undefined
        ? null
        : settle(() => readMappings(context, functionName, options.queueUrl)),
      tableName === undefined ? null : settle(() => readBreaker(context, tableName)),
    ],
  );
  return {
    at: new Date(context.now()).toISOString(),
    stage: context.stage?.stage ?? null,
    worker: { functionName: functionName ?? null, mappings, breaker },
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

const PAUSED_STATES = new Set(['Disabled', 'Disabling']);

const workerLine = (w: WorkerStatus): string => {
  const fn = `function ${w.functionName ?? '(not given)'}`;
  if (w.mappings === null) return `${fn}; event source mapping not read (no function or queue)`;
  if (!w.mappings.ok) return `${fn}; event source mapping unknown: ${w.mappings.error}`;
  return `${fn}; ${w.mappings.value
    .map(
      (m) =>
        `mapping ${m.uuid} ${m.state} (${m.state === 'Enabled' ? 'running' : PAUSED_STATES.has(m.state) ? 'paused' : 'changing'}${m.stateTransitionReason ? `, ${m.stateTransitionReason}` : ''})`,
    )
    .join('; ')}`;
};

const breakerLine = (b: BreakerView): string =>
  b.opening
    ? `OPEN since ${new Date(b.opening.openedAt).toISOString()}: ${b.opening.revocationsInWindow} revocations in ${b.opening.windowSeconds} s (max ${b.opening.maxRevocations}), tripped by ${b.opening.trippedBy.eventId} (policy ${b.opening.trippedBy.policyId}); revoker resume closes it`
    : `closed, ${b.revocationsInWindow} revocation(s) in the current window`;

/** The status as the one screen an on-call reads. */
export const renderStatus = (status: StatusReport): string =>
  [
    `datashare-revoker${status.stage ? ` stage ${status.stage}` : ''} at ${status.at}`,
    `${'worker'.padEnd(14)}${workerLine(status.worker)}`,
    ...(status.worker.breaker ? [line('breaker', status.worker.breaker, breakerLine)] : []),
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
  tableName?: string;
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
      .option('--table-name <name>', `the idempotency table (breaker) ${fromStage('--table-name')}`)
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
The worker line is the function's event source mapping on the source queue (running or paused);
the breaker line its record in the idempotency table. The DLQ is read without consuming it (as 'dlq list' does: each message is held 30 s and made
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
          ...(flags.tableName !== undefined && { tableName: flags.tableName }),
          ...(flags.alarmTopicArn !== undefined && { alarmTopicArn: flags.alarmTopicArn }),
          ...(flags.watch !== undefined && { watchSeconds: flags.watch }),
          ...(flags.dlqMax !== undefined && { dlqMax: flags.dlqMax }),
        });
        return result.exitCode;
      }),
    );
};
