import { invalidParameterValue } from './errors.js';

/** AWS's default page size for Redshift describes. */
export const DEFAULT_MAX_RECORDS = 100;

/**
 * One page of `items` (sorted by `keyOf`). The marker is the opaque key of the last item
 * returned, so a page after a deletion resumes at the next key instead of skipping an item.
 *
 * @throws {RedshiftApiError} `InvalidParameterValue` for a marker this emulator did not issue.
 */
export const paginate = <T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  maxRecords: number = DEFAULT_MAX_RECORDS,
  marker?: string,
): { page: T[]; marker?: string } => {
  const after = marker === undefined ? undefined : decodeMarker(marker);
  const start = after === undefined ? 0 : items.findIndex((item) => keyOf(item) > after);
  const rest = start < 0 ? [] : items.slice(start);
  const page = rest.slice(0, maxRecords);
  const last = page.at(-1);
  return rest.length > maxRecords && last !== undefined
    ? { page, marker: encodeMarker(keyOf(last)) }
    : { page };
};

const PREFIX = 'emu1:';

const encodeMarker = (key: string): string => Buffer.from(PREFIX + key).toString('base64url');

const decodeMarker = (marker: string): string => {
  const text = Buffer.from(marker, 'base64url').toString('utf8');
  if (!text.startsWith(PREFIX)) throw invalidParameterValue('Marker', marker, 'unknown marker');
  return text.slice(PREFIX.length);
};
