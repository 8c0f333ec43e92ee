import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { awsCall, UsageError } from './errors.js';

/** The detail-type of the worker's result events (src/core/audit.ts). */
export const RESULT_DETAIL_TYPE = 'Datashare Revocation Result';

/**
 * The audit detail as the CLI reads it: every field optional and loosely typed, because the log
 * group holds events of every worker version (and other detail-types of the same source).
 */
export interface AuditDetailView {
  eventId?: string | null;
  outcome?: string;
  dataShareArn?: string | null;
  consumer?: { arn?: string; region?: string; entireAccount?: boolean } | null;
  consumerAccountId?: string | null;
  policyId?: string | null;
  issuedAt?: string | null;
  processedAt?: string;
  latencyMs?: number | null;
  attempts?: number;
  receiveCount?: number;
  replayed?: boolean;
  dryRun?: boolean;
  error?: { code?: string; message?: string };
  satisfiedBy?: string;
  /** SUPERSEDED: the newer grant (the association's change) that overtook the decision. */
  supersededBy?: { associationChangedAt?: string; status?: string } | null;
  actor?: { accountId?: string; roleArn?: string | null } | null;
  redshiftRequestId?: string | null;
  messageId?: string;
  bodySha256?: string;
  worker?: { functionName?: string; awsRequestId?: string };
}

/** One event of the audit log group: the EventBridge envelope the audit rule stored. */
export interface AuditLogEvent {
  /** The log event's timestamp (the EventBridge event's time), epoch ms. */
  timestamp: number;
  /** The EventBridge event id. */
  id: string;
  detailType: string;
  detail: AuditDetailView;
}

export interface AuditLogQuery {
  logGroup: string;
  /** Epoch ms, inclusive. */
  startTime: number;
  /** Epoch ms, inclusive. */
  endTime: number;
  /** Conditions on `detail` fields, pushed down as a JSON filter pattern (`{ $.detail.k = "v" && ... }`). */
  detailEquals?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  /** Called after each page: events read so far and pages. */
  onPage?: (read: number, pages: number) => void;
}

export interface AuditLogRead {
  events: AuditLogEvent[];
  pages: number;
  /** Log events that were not an EventBridge envelope (not JSON, no detail). */
  unreadable: number;
}

/** `ACTIVE since 2026-11-27T10:14:03.000Z`: a SUPERSEDED decision's newer grant, in one line. */
export const supersededText = (value: AuditDetailView['supersededBy']): string | null =>
  value ? `${value.status ?? 'changed'} since ${value.associationChangedAt ?? '?'}` : null;

/** `{ $.detail.policyId = "p" && ... }`: the values JSON-quoted, as the pattern syntax wants. */
export const detailFilterPattern = (equals: Readonly<Record<string, string>> = {}): string => {
  const conditions = Object.entries(equals).map(
    ([field, value]) => `$.detail.${field} = ${JSON.stringify(value)}`,
  );
  return conditions.length === 0 ? '' : `{ ${conditions.join(' && ')} }`;
};

const parseEnvelope = (message: string, timestamp: number): AuditLogEvent | undefined => {
  try {
    const json = JSON.parse(message) as Record<string, unknown>;
    const detail = json.detail;
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return undefined;
    return {
      timestamp,
      id: typeof json.id === 'string' ? json.id : '',
      detailType: typeof json['detail-type'] === 'string' ? json['detail-type'] : '',
      detail: detail as AuditDetailView,
    };
  } catch {
    return undefined;
  }
};

/**
 * Reads the audit log group with `FilterLogEvents`, page by page (`nextToken`) until the range
 * is exhausted. Pages may be empty while a token remains (CloudWatch Logs searches in slices):
 * only a missing token ends the read.
 *
 * @throws {CliError} when the log group does not exist or the call is refused.
 */
export const readAuditLog = async (
  logs: CloudWatchLogsClient,
  query: AuditLogQuery,
): Promise<AuditLogRead> => {
  const events: AuditLogEvent[] = [];
  let unreadable = 0;
  let pages = 0;
  let nextToken: string | undefined;
  const filterPattern = detailFilterPattern(query.detailEquals);
  do {
    if (query.signal?.aborted) break;
    const page = await awsCall('CloudWatch Logs', 'FilterLogEvents', query.logGroup, () =>
      logs.send(
        new FilterLogEventsCommand({
          logGroupName: query.logGroup,
          startTime: query.startTime,
          endTime: query.endTime,
          ...(filterPattern !== '' && { filterPattern }),
          ...(nextToken !== undefined && { nextToken }),
        }),
        query.signal ? { abortSignal: query.signal } : {},
      ),
    );
    pages += 1;
    for (const event of page.events ?? []) {
      const parsed = parseEnvelope(event.message ?? '', event.timestamp ?? 0);
      if (parsed) events.push(parsed);
      else unreadable += 1;
    }
    nextToken = page.nextToken;
    query.onPage?.(events.length, pages);
  } while (nextToken);
  return { events, pages, unreadable };
};

const RELATIVE = /^(\d+)\s*(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses `--since` / `--until`: an ISO-8601 time with a zone (`2026-07-01T00:00:00Z`), a date
 * (`2026-07-01`, midnight UTC), or a duration ago (`30m`, `24h`, `90d`).
 *
 * @throws {UsageError} naming the flag, the value and the accepted forms.
 */
export const parseTime = (flag: string, value: string, now: number): number => {
  const trimmed = value.trim();
  const relative = RELATIVE.exec(trimmed);
  if (relative?.[1] && relative[2]) {
    return now - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
  }
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(trimmed);
  const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(
    trimmed,
  );
  const ms = dateOnly || withZone ? Date.parse(dateOnly ? `${trimmed}T00:00:00Z` : trimmed) : NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `${flag} must be an ISO-8601 time with a zone (2026-07-01T00:00:00Z), a date (2026-07-01, UTC) or a duration ago (30m, 24h, 90d), '${value}' given`,
    );
  }
  return ms;
};
