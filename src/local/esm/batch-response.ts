/**
 * How Lambda reads an SQS handler's response when `ReportBatchItemFailures` is on
 * (Lambda developer guide, "Success and failure conditions"):
 * - complete success: a null/absent response, an empty object, a null or empty `batchItemFailures`;
 * - complete failure: an invalid response, an `itemIdentifier` that is empty, null, missing
 *   (wrong key name) or not the messageId of a record in the batch.
 */
export type BatchVerdict =
  | { kind: 'processed'; failedMessageIds: ReadonlySet<string> }
  | { kind: 'invalid'; problem: string };

const invalid = (problem: string): BatchVerdict => ({ kind: 'invalid', problem });

const kindOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;

/**
 * Judges a handler's response the way the Lambda service does: on the JSON the runtime would
 * have sent, so `undefined` fields vanish and an unserialisable value is an invalid response.
 *
 * @example
 * readBatchResponse({ batchItemFailures: [{ itemIdentifier: 'id-2' }] }, new Set(['id-1', 'id-2']));
 * // → { kind: 'processed', failedMessageIds: Set { 'id-2' } }
 */
export function readBatchResponse(
  response: unknown,
  messageIds: ReadonlySet<string>,
): BatchVerdict {
  let json: string | undefined;
  try {
    json = JSON.stringify(response);
  } catch (error) {
    return invalid(`the response is not JSON-serialisable (${String(error)})`);
  }
  // JSON.stringify(undefined) is undefined: the runtime sends no payload, read as null.
  const parsed: unknown = json === undefined ? null : JSON.parse(json);
  if (parsed === null) return { kind: 'processed', failedMessageIds: new Set() };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    return invalid(
      `the response must be an object with batchItemFailures, ${kindOf(parsed)} given`,
    );
  }

  const failures: unknown = (parsed as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) {
    return { kind: 'processed', failedMessageIds: new Set() };
  }
  if (!Array.isArray(failures)) {
    return invalid(`batchItemFailures must be an array, ${kindOf(failures)} given`);
  }

  const failedMessageIds = new Set<string>();
  for (const [index, item] of failures.entries()) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return invalid(`batchItemFailures[${index}] must be an object, ${kindOf(item)} given`);
    }
    const id: unknown = (item as { itemIdentifier?: unknown }).itemIdentifier;
    if (typeof id !== 'string' || id.length === 0) {
      const given = typeof id === 'string' ? "''" : kindOf(id);
      return invalid(
        `batchItemFailures[${index}].itemIdentifier must be a non-empty string, ${given} given`,
      );
    }
    if (!messageIds.has(id)) {
      return invalid(
        `batchItemFailures[${index}].itemIdentifier '${id}' is not a messageId of this batch`,
      );
    }
    failedMessageIds.add(id);
  }
  return { kind: 'processed', failedMessageIds };
}
