import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EmulatedApiError } from '../api-error.js';
import {
  type AdminRoutes,
  isAdminRequest,
  readBody,
  sendText,
  serveAdminRoute,
  startLocalHttpServer,
} from '../http.js';

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'GraniteServiceVersion20100801.';

/** An alarm as the emulator evaluates it, on every request, from the local stack's state. */
export interface EmulatedAlarm {
  name: string;
  description: string;
  /** `AlarmActions`: what `DescribeAlarms`' `ActionPrefix` matches. */
  actions: string[];
  namespace: string;
  metricName: string;
  dimensions: { Name: string; Value: string }[];
  threshold: number;
  /** `GreaterThanThreshold`: in ALARM when the metric's current value is above the threshold. */
  comparisonOperator: 'GreaterThanThreshold';
}

/** The current value of a metric, or undefined when the emulator has no datapoint for it. */
export type MetricSource = (
  namespace: string,
  metricName: string,
  dimensions: readonly { Name?: string; Value?: string }[],
) => number | undefined;

export interface CloudWatchEmulatorOptions {
  port?: number;
  alarms?: EmulatedAlarm[];
  metrics: MetricSource;
}

/** A running CloudWatch emulator (`DescribeAlarms`, `GetMetricData`). */
export interface CloudWatchEmulator {
  /** `http://127.0.0.1:PORT`: give it as `endpoint` or `AWS_ENDPOINT_URL_CLOUDWATCH`. */
  readonly endpoint: string;
  readonly alarms: readonly EmulatedAlarm[];
  readonly calls: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

class CloudWatchApiError extends EmulatedApiError {
  override readonly name = 'CloudWatchApiError';
}

type Body = Record<string, unknown>;

const stateOf = (alarm: EmulatedAlarm, metrics: MetricSource) => {
  const value = metrics(alarm.namespace, alarm.metricName, alarm.dimensions);
  if (value === undefined) {
    return { state: 'INSUFFICIENT_DATA', reason: 'no datapoint (treated as not breaching)' };
  }
  return value > alarm.threshold
    ? {
        state: 'ALARM',
        reason: `Threshold Crossed: 1 datapoint [${value}] was greater than the threshold (${alarm.threshold}).`,
      }
    : {
        state: 'OK',
        reason: `Threshold Crossed: 1 datapoint [${value}] was not greater than the threshold (${alarm.threshold}).`,
      };
};

const describeAlarms = (body: Body, alarms: readonly EmulatedAlarm[], metrics: MetricSource) => {
  const now = Date.now() / 1000;
  const metricAlarms = alarms
    .filter(
      (a) =>
        (typeof body.AlarmNamePrefix !== 'string' || a.name.startsWith(body.AlarmNamePrefix)) &&
        (typeof body.ActionPrefix !== 'string' ||
          a.actions.some((action) => action.startsWith(body.ActionPrefix as string))),
    )
    .map((a) => ({ alarm: a, ...stateOf(a, metrics) }))
    .filter(({ state }) => typeof body.StateValue !== 'string' || state === body.StateValue)
    .map(({ alarm, state, reason }) => ({
      AlarmName: alarm.name,
      AlarmDescription: alarm.description,
      AlarmActions: alarm.actions,
      StateValue: state,
      StateReason: reason,
      // Epoch seconds: awsJson's timestamp format.
      StateUpdatedTimestamp: now,
      Namespace: alarm.namespace,
      MetricName: alarm.metricName,
      Dimensions: alarm.dimensions,
      Threshold: alarm.threshold,
      ComparisonOperator: alarm.comparisonOperator,
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
    }));
  return { MetricAlarms: metricAlarms, CompositeAlarms: [] };
};

interface Query {
  Id?: string;
  MetricStat?: {
    Metric?: {
      Namespace?: string;
      MetricName?: string;
      Dimensions?: { Name?: string; Value?: string }[];
    };
  };
}

/** One datapoint per query, now: the metric's current value (the emulator keeps no history). */
const getMetricData = (body: Body, metrics: MetricSource) => {
  const queries = Array.isArray(body.MetricDataQueries) ? (body.MetricDataQueries as Query[]) : [];
  if (queries.length === 0) {
    throw new CloudWatchApiError('ValidationError', 'MetricDataQueries: at least one query');
  }
  return {
    MetricDataResults: queries.map((q) => {
      const metric = q.MetricStat?.Metric;
      const value = metric
        ? metrics(metric.Namespace ?? '', metric.MetricName ?? '', metric.Dimensions ?? [])
        : undefined;
      return {
        Id: q.Id,
        Label: metric?.MetricName,
        Timestamps: value === undefined ? [] : [Math.floor(Date.now() / 1000)],
        Values: value === undefined ? [] : [value],
        StatusCode: 'Complete',
      };
    }),
  };
};

/**
 * Starts a CloudWatch emulator (awsJson1_0) on 127.0.0.1 that answers `DescribeAlarms` (with
 * `StateValue`, `AlarmNamePrefix`, `ActionPrefix`) and `GetMetricData`, evaluating each alarm on
 * request from `metrics` — the local stack derives them from fauxqs' queues — so `revoker status`
 * shows real ALARM states locally. No history, no periods: each metric is its current value.
 *
 * @example
 * const cw = await startCloudWatchEmulator({ metrics: () => 0, alarms: [] });
 * await cw.stop();
 */
export const startCloudWatchEmulator = async (
  options: CloudWatchEmulatorOptions,
): Promise<CloudWatchEmulator> => {
  const alarms = options.alarms ?? [];
  const calls: Record<string, number> = {};
  const handler = async (request: IncomingMessage, response: ServerResponse) => {
    const requestId = randomUUID();
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : target;
    const text = (await readBody(request)).toString('utf8');
    const answer = (status: number, value: unknown) =>
      sendText(response, status, CONTENT_TYPE, JSON.stringify(value), requestId);
    try {
      let body: Body;
      try {
        body = (text.trim() === '' ? {} : JSON.parse(text)) as Body;
      } catch {
        throw new CloudWatchApiError('SerializationException', 'Request body is not valid JSON.');
      }
      let result: unknown;
      if (operation === 'DescribeAlarms') result = describeAlarms(body, alarms, options.metrics);
      else if (operation === 'GetMetricData') result = getMetricData(body, options.metrics);
      else {
        throw new CloudWatchApiError(
          'UnknownOperationException',
          `The emulator serves DescribeAlarms and GetMetricData, not ${operation || '(none)'}`,
        );
      }
      calls[`${operation} ok`] = (calls[`${operation} ok`] ?? 0) + 1;
      answer(200, result);
    } catch (error) {
      if (!(error instanceof CloudWatchApiError)) throw error;
      calls[`${operation} rejected`] = (calls[`${operation} rejected`] ?? 0) + 1;
      answer(error.httpStatus, { __type: error.code, message: error.message });
    }
  };
  const routes: AdminRoutes = {
    'GET /__emulator/alarms': () => ({
      alarms: alarms.map((a) => ({ ...a, ...stateOf(a, options.metrics) })),
      calls,
    }),
  };
  const server = await startLocalHttpServer(
    (request, response) =>
      isAdminRequest(request)
        ? serveAdminRoute(request, response, routes)
        : handler(request, response),
    options.port ?? 0,
  );
  return { endpoint: server.endpoint, alarms, calls, stop: () => server.close() };
};
