/**
 * The baseline: the SQS → Redshift → EventBridge handler a user would write in a few dozen lines
 * instead of this worker. Per record, in order: parse, disassociate (the SDK's default retries:
 * standard mode, 3 attempts), publish one audit event, report the record as a batch item failure
 * if anything threw. No deduplication, no shared calls, no deadline, no dead-letter copy.
 * It treats any `InvalidDataShareFault` as "already revoked", as a user reading the API reference
 * would (otherwise every re-sent request would fail until the DLQ).
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DisassociateDataShareConsumerCommand,
  InvalidDataShareFault,
  RedshiftClient,
} from '@aws-sdk/client-redshift';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';

export const createBaselineHandler = () => {
  const redshift = new RedshiftClient({});
  const events = new EventBridgeClient({});

  const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchItemFailure[] = [];
    for (const record of event.Records) {
      try {
        const request = JSON.parse(record.body);
        let outcome = 'REVOKED';
        try {
          await redshift.send(
            new DisassociateDataShareConsumerCommand({
              DataShareArn: request.dataShareArn,
              ConsumerArn: request.consumerArn,
              ConsumerRegion: request.consumerRegion,
              DisassociateEntireAccount: request.disassociateEntireAccount,
            }),
          );
        } catch (error) {
          if (!(error instanceof InvalidDataShareFault)) throw error;
          outcome = 'ALREADY_REVOKED';
        }
        const result = await events.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: process.env.AUDIT_EVENT_BUS_NAME,
                Source: 'governance.datashare-revoker',
                DetailType: 'Datashare Revocation Result',
                Detail: JSON.stringify({ ...request, outcome, processedAt: new Date() }),
              },
            ],
          }),
        );
        if (result.FailedEntryCount) throw new Error('audit event not accepted');
      } catch {
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };

  return {
    handler,
    destroy: () => {
      redshift.destroy();
      events.destroy();
    },
  };
};

export const { handler } = createBaselineHandler();
