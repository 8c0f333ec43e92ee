import type { WireEntry } from './types.js';

/** AWS's entry size limit in the PutEvents reference (newer announcements say 1 MB). */
export const DEFAULT_MAX_ENTRY_BYTES = 256 * 1024;
export const MAX_DETAIL_TYPE_LENGTH = 128;

/** An entry that passed validation, normalised. */
export interface ValidEntry {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources: string[];
  eventBusName: string;
  time?: Date;
  bytes: number;
}

export interface EntryRejection {
  ErrorCode: string;
  ErrorMessage: string;
}

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * An entry's size as AWS computes it for PutEvents quotas: 14 bytes for Time when given, plus the
 * UTF-8 bytes of Source, DetailType, Detail and each resource.
 */
export const entrySize = (entry: WireEntry): number =>
  (entry.Time === undefined ? 0 : 14) +
  [entry.Source, entry.DetailType, entry.Detail]
    .filter((v): v is string => typeof v === 'string')
    .reduce((sum, v) => sum + utf8Bytes(v), 0) +
  (Array.isArray(entry.Resources)
    ? entry.Resources.filter((r): r is string => typeof r === 'string').reduce(
        (sum, r) => sum + utf8Bytes(r),
        0,
      )
    : 0);

const invalid = (parameter: string, reason: string): EntryRejection => ({
  ErrorCode: 'InvalidArgument',
  ErrorMessage: `Parameter ${parameter} is not valid. Reason: ${reason}`,
});

const required = (entry: WireEntry, name: 'Source' | 'DetailType' | 'Detail') =>
  typeof entry[name] === 'string' && entry[name] !== '';

/** `EventBusName` may be a name or an event bus ARN; events are recorded under the name. */
export const busNameOf = (value: unknown): string => {
  if (typeof value !== 'string' || value === '') return 'default';
  const arnName = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/(.+)$/.exec(value)?.[1];
  return arnName ?? value;
};

const parseTime = (value: unknown): Date | undefined | 'invalid' => {
  if (value === undefined) return undefined;
  // awsJson sends timestamps as epoch seconds.
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(String(value));
  return Number.isNaN(date.getTime()) ? 'invalid' : date;
};

/**
 * Validates one entry the way PutEvents does, answering per entry (the call itself succeeds):
 * required fields and DetailType length → `InvalidArgument`; a Detail that is not a JSON object
 * → `MalformedDetail`; an `aws.` source → `NotAuthorizedForSourceException`.
 */
export const validateEntry = (
  entry: WireEntry,
  maxEntryBytes: number = DEFAULT_MAX_ENTRY_BYTES,
): ValidEntry | EntryRejection => {
  for (const name of ['Source', 'DetailType', 'Detail'] as const) {
    if (!required(entry, name)) return invalid(name, `${name} is a required argument.`);
  }
  const source = entry.Source as string;
  const detailType = entry.DetailType as string;
  if (detailType.length > MAX_DETAIL_TYPE_LENGTH) {
    return invalid(
      'DetailType',
      `Provided DetailType has more than ${MAX_DETAIL_TYPE_LENGTH} characters.`,
    );
  }
  if (source.startsWith('aws.')) {
    return {
      ErrorCode: 'NotAuthorizedForSourceException',
      ErrorMessage: 'Not authorized for the source.',
    };
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    detail = undefined;
  }
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  const resources = entry.Resources ?? [];
  if (
    !Array.isArray(resources) ||
    resources.some((r) => typeof r !== 'string' || !r.startsWith('arn:'))
  ) {
    return invalid('Resources', 'Resources must be a list of ARNs.');
  }
  const time = parseTime(entry.Time);
  if (time === 'invalid') return invalid('Time', 'Time is not a valid timestamp.');
  const bytes = entrySize(entry);
  if (bytes > maxEntryBytes) {
    return invalid(
      'Entry',
      `Entry size ${bytes} bytes exceeds the limit of ${maxEntryBytes} bytes.`,
    );
  }
  return {
    source,
    detailType,
    detail: detail as Record<string, unknown>,
    resources: resources as string[],
    eventBusName: busNameOf(entry.EventBusName),
    ...(time === undefined ? {} : { time }),
    bytes,
  };
};

export const isRejection = (result: ValidEntry | EntryRejection): result is EntryRejection =>
  'ErrorCode' in result;
