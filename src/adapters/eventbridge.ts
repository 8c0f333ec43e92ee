import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { AUDIT_DETAIL_TYPE } from '../core/audit.js';
import { putEventsEntryBytes } from '../core/batch-size.js';
import { AwsCallError } from '../core/errors.js';
import type { AuditEntry, AuditEntryResult, AuditPublisher } from '../worker/ports.js';
import { failureDetailsOf, messageOf } from './aws-error.js';

/** Entry error codes worth another try (PutEvents reference); the others are permanent. */
const RETRYABLE_ENTRY_CODES = new Set([
  'ThrottlingException',
  'InternalFailure',
  'InternalException',
]);

/**
 * `AuditPublisher` over EventBridge `PutEvents`. An HTTP 200 can still carry failed entries, so
 * every entry's result is mapped back, in request order.
 */
export class EventBridgeAuditPublisher implements AuditPublisher {
  readonly #client: EventBridgeClient;
  readonly #eventBusName: string;
  readonly #source: string;

  constructor(options: { client: EventBridgeClient; eventBusName: string; source: string }) {
    this.#client = options.client;
    this.#eventBusName = options.eventBusName;
    this.#source = options.source;
  }

  entrySize(entry: AuditEntry): number {
    return putEventsEntryBytes({
      source: this.#source,
      detailType: entry.detailType ?? AUDIT_DETAIL_TYPE,
      detail: entry.detail,
      resources: entry.resources,
    });
  }

  async publish(entries: readonly AuditEntry[], signal: AbortSignal): Promise<AuditEntryResult[]> {
    try {
      const output = await this.#client.send(
        new PutEventsCommand({
          Entries: entries.map((entry) => ({
            EventBusName: this.#eventBusName,
            Source: this.#source,
            DetailType: entry.detailType ?? AUDIT_DETAIL_TYPE,
            Detail: entry.detail,
            Resources: entry.resources,
          })),
        }),
        { abortSignal: signal },
      );
      return entries.map((_, index): AuditEntryResult => {
        const result = output.Entries?.[index];
        if (result?.EventId) return { ok: true };
        const code = result?.ErrorCode ?? 'MissingEntryResult';
        return {
          ok: false,
          code,
          message: result?.ErrorMessage ?? 'PutEvents returned no result for this entry',
          retryable: RETRYABLE_ENTRY_CODES.has(code) || code === 'MissingEntryResult',
        };
      });
    } catch (error) {
      throw new AwsCallError(
        `PutEvents failed: ${messageOf(error)}`,
        failureDetailsOf(error),
        { operation: 'PutEvents' },
        { cause: error },
      );
    }
  }
}
