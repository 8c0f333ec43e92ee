/** Splits items into groups of at most `size`. */
export const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
};

/**
 * SQS batch calls take at most 10 entries, and SendMessageBatch caps the payload of the whole
 * request (256 KiB for years, 1 MiB since 2026): we stay under the older limit so that a request
 * never fails as a whole because its neighbours were large. An item larger than that goes alone.
 */
export const SEND_BATCH_MAX_ENTRIES = 10;
export const SEND_BATCH_MAX_BYTES = 256 * 1024;

/** Groups items for SendMessageBatch by count and by total size. */
export const chunkBySize = <T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  maxEntries: number = SEND_BATCH_MAX_ENTRIES,
  maxBytes: number = SEND_BATCH_MAX_BYTES,
): T[][] => {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= maxEntries || bytes + size > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
};
