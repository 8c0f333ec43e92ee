import type { DlqEntry } from './dlq-entry.js';
import { UsageError } from './errors.js';

/** Which dead-lettered messages a command acts on; an absent field matches everything. */
export interface MessageFilter {
  /** `revoker.errorCode`, exactly. */
  errorCode?: string;
  /** The body's `dataShareArn`: the whole ARN, or a prefix of it (ending in `/` or `:`, or not). */
  dataShare?: string;
  /** The body's `eventId`, exactly. */
  eventId?: string;
}

export interface FilterFlags {
  error?: string;
  datashare?: string;
  eventId?: string;
}

const nonEmpty = (flag: string, value: string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError(`${flag} must not be empty, '' given`);
  return value;
};

/** Builds the filter from `--error`, `--datashare` and `--event-id`. */
export const filterFromFlags = (flags: FilterFlags): MessageFilter => {
  const errorCode = nonEmpty('--error', flags.error);
  const dataShare = nonEmpty('--datashare', flags.datashare);
  const eventId = nonEmpty('--event-id', flags.eventId);
  return {
    ...(errorCode !== undefined && { errorCode }),
    ...(dataShare !== undefined && { dataShare }),
    ...(eventId !== undefined && { eventId }),
  };
};

export const isEmptyFilter = (filter: MessageFilter): boolean =>
  filter.errorCode === undefined && filter.dataShare === undefined && filter.eventId === undefined;

/** True when the entry satisfies every condition of the filter. */
export const matchesFilter = (filter: MessageFilter, entry: DlqEntry): boolean =>
  (filter.errorCode === undefined || entry.errorCode === filter.errorCode) &&
  (filter.eventId === undefined || entry.eventId === filter.eventId) &&
  (filter.dataShare === undefined || entry.dataShareArn?.startsWith(filter.dataShare) === true);

/** The filter in words, for plans and confirmations. */
export const describeFilter = (filter: MessageFilter): string => {
  const parts = [
    filter.errorCode !== undefined && `error code ${filter.errorCode}`,
    filter.dataShare !== undefined && `datashare ${filter.dataShare}*`,
    filter.eventId !== undefined && `eventId ${filter.eventId}`,
  ].filter((part): part is string => typeof part === 'string');
  return parts.length === 0 ? 'all messages' : `messages with ${parts.join(', ')}`;
};
