/**
 * Batch requests bounded by bytes as well as by count. AWS refuses a whole `PutEvents` or
 * `SendMessageBatch` call whose entries together pass the service's size limit — a permanent
 * error, the same every time — so requests are split before they are sent. Pure size math: the
 * adapters know the services' shapes, this module only adds numbers.
 */

export interface BatchLimits<T> {
  /** Entries per request. */
  maxCount: number;
  /** Total size of a request's entries, by `sizeOf`. */
  maxBytes: number;
  sizeOf: (item: T) => number;
}

/**
 * Packs items, in order, into as few consecutive groups as the limits allow (greedy: a group is
 * closed when the next item would pass either limit). An item that alone is larger than
 * `maxBytes` goes alone: the service then answers for it, and only for it.
 *
 * @example
 * packBatches(entries, { maxCount: 10, maxBytes: 250_000, sizeOf: putEventsEntryBytes })
 * @throws {RangeError} when `maxCount` is not a positive integer.
 */
export const packBatches = <T>(items: readonly T[], limits: BatchLimits<T>): T[][] => {
  if (!Number.isInteger(limits.maxCount) || limits.maxCount < 1)
    throw new RangeError(`maxCount must be a positive integer, ${limits.maxCount} given`);
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = limits.sizeOf(item);
    if (group.length > 0 && (group.length >= limits.maxCount || bytes + size > limits.maxBytes)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(item);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
};

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/** The fields of a `PutEventsRequestEntry` that count towards its size. */
export interface PutEventsEntryFields {
  source: string;
  detailType: string;
  detail?: string;
  resources?: readonly string[];
  /** Only whether it is set matters: a set `Time` counts 14 bytes. */
  time?: unknown;
}

/**
 * The size of a `PutEvents` entry as EventBridge computes it: `Time` 14 bytes if set; `Source`,
 * `DetailType`, `Detail` and each `Resources` element their UTF-8 bytes.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const putEventsEntryBytes = (entry: PutEventsEntryFields): number =>
  (entry.time === undefined ? 0 : 14) +
  utf8(entry.source) +
  utf8(entry.detailType) +
  (entry.detail === undefined ? 0 : utf8(entry.detail)) +
  (entry.resources ?? []).reduce((total, resource) => total + utf8(resource), 0);

/** A message attribute by the parts SQS counts (binary values base64-encoded, as Lambda gives them). */
export interface SqsAttributeFields {
  dataType: string;
  stringValue?: string;
  binaryValue?: string;
}

/**
 * The size of an SQS message as SQS counts it against its limits: the body's UTF-8 bytes plus,
 * for every message attribute, its name, its data type and its value ("All parts of the message
 * attribute, including Name, Type, and Value, are part of the message size restriction").
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_MessageAttributeValue.html
 */
export const sqsMessageBytes = (
  body: string,
  attributes: Readonly<Record<string, SqsAttributeFields>>,
): number =>
  Object.entries(attributes).reduce(
    (total, [name, value]) =>
      total +
      utf8(name) +
      utf8(value.dataType) +
      (value.stringValue === undefined ? 0 : utf8(value.stringValue)) +
      (value.binaryValue === undefined ? 0 : Buffer.from(value.binaryValue, 'base64').length),
    utf8(body),
  );
