import type { SQSRecord } from 'aws-lambda';
import type { Logger } from 'pino';
import { type AccountScope, accountRefusal } from '../core/account-scope.js';
import { DeadLetterAttribute } from '../core/dead-letter.js';
import { type Envelope, parseMessageBody, type Rejection } from '../core/parse.js';
import type { RevocationRequest } from '../core/request.js';
import { type DisassociationTarget, targetOf } from '../core/target.js';
import { fenceRefusal, type TargetFence } from '../core/target-fence.js';

/** One SQS message of the batch. */
export interface Delivery {
  record: SQSRecord;
  receiveCount: number;
  /** The operator CLI replayed it from the DLQ. */
  replayed: boolean;
  log: Logger;
}

/** One policy decision (eventId) of the batch, with every message that carries it. */
export interface Decision {
  eventId: string;
  request: RevocationRequest;
  envelope: Envelope | undefined;
  target: DisassociationTarget;
  /** The first is the one that acts; the others are duplicates within the batch (rule 1). */
  deliveries: [Delivery, ...Delivery[]];
}

export interface RejectedDelivery {
  delivery: Delivery;
  rejection: Rejection;
}

export interface PreparedBatch {
  decisions: Decision[];
  rejected: RejectedDelivery[];
}

const receiveCountOf = (record: SQSRecord): number => {
  const count = Number.parseInt(record.attributes?.ApproximateReceiveCount ?? '', 10);
  return Number.isFinite(count) && count > 0 ? count : 1;
};

/**
 * Parses every message and groups the valid ones by eventId, keeping batch order. A message that
 * fails to parse, names a consumer account outside `scope`, or a target `fence` excludes (a broad
 * target, a datashare outside the allowed ones) becomes a rejection; nothing here throws.
 */
export const prepareBatch = (
  records: readonly SQSRecord[],
  logger: Logger,
  awsRequestId: string,
  scope: AccountScope,
  fence: TargetFence,
): PreparedBatch => {
  const byEventId = new Map<string, Decision>();
  const rejected: RejectedDelivery[] = [];
  for (const record of records) {
    const parsed = parseMessageBody(record.body ?? '');
    const eventId = parsed.ok ? parsed.request.eventId : parsed.rejection.eventId;
    const correlationId = parsed.ok ? parsed.request.correlationId : undefined;
    const delivery: Delivery = {
      record,
      receiveCount: receiveCountOf(record),
      replayed: record.messageAttributes?.[DeadLetterAttribute.ReplayCount] !== undefined,
      log: logger.child({ messageId: record.messageId, eventId, correlationId, awsRequestId }),
    };
    if (!parsed.ok) {
      rejected.push({ delivery, rejection: parsed.rejection });
      continue;
    }
    const target = targetOf(parsed.request, scope.ownAccountId);
    const refused =
      accountRefusal(target, scope, parsed.request.eventId) ??
      fenceRefusal(target, fence, parsed.request.eventId);
    if (refused) {
      rejected.push({ delivery, rejection: refused });
      continue;
    }
    const existing = byEventId.get(parsed.request.eventId);
    if (existing) {
      existing.deliveries.push(delivery);
      continue;
    }
    byEventId.set(parsed.request.eventId, {
      eventId: parsed.request.eventId,
      request: parsed.request,
      envelope: parsed.envelope,
      target,
      deliveries: [delivery],
    });
  }
  return { decisions: [...byEventId.values()], rejected };
};

/** The highest receive count among a decision's messages: the one closest to the DLQ. */
export const highestReceiveCount = (decision: Decision): number =>
  Math.max(...decision.deliveries.map((delivery) => delivery.receiveCount));
