/**
 * The baseline: the SQS → Redshift → EventBridge handler a user would write in a few dozen lines
 * instead of this worker. Per record, in order: parse, disassociate (the SDK's default retries:
 * standard mode, 3 attempts), publish one audit event, report the record as a batch item failure
 * if anything threw. No deduplication, no shared calls, no deadline, no dead-letter copy.
 * It treats any `InvalidDataShareFault` as "already revoked", as a user reading the API reference
 * would (otherwise every re-sent request would fail until the DLQ).
 *
 * Given a consumer role (hub and spoke), a consumer of another account is revoked through a client
 * of that account, with the role's credentials from STS `AssumeRole`, cached by the client until
 * they expire — the few lines a user adds to make it work across accounts, no more.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DisassociateDataShareConsumerCommand,
  InvalidDataShareFault,
  RedshiftClient,
} from '@aws-sdk/client-redshift';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';

/** The role assumed in a consumer account other than the function's own. */
export interface BaselineConsumerRole {
  roleName: string;
  externalId?: string;
}

export const createBaselineHandler = (consumerRole?: BaselineConsumerRole) => {
  const redshift = new RedshiftClient({});
  const events = new EventBridgeClient({});
  const sts = new STSClient({});
  const clients = new Map<string, RedshiftClient>();
  const redshiftFor = (consumerArn: string, ownAccountId: string | undefined): RedshiftClient => {
    const accountId = String(consumerArn).split(':')[4];
    if (!consumerRole || accountId === undefined || accountId === ownAccountId) return redshift;
    let client = clients.get(accountId);
    if (!client) {
      client = new RedshiftClient({
        credentials: async () => {
          const { Credentials: c } = await sts.send(
            new AssumeRoleCommand({
              RoleArn: `arn:aws:iam::${accountId}:role/${consumerRole.roleName}`,
              RoleSessionName: 'baseline',
              ExternalId: consumerRole.externalId,
            }),
          );
          return {
            accessKeyId: c?.AccessKeyId ?? '',
            secretAccessKey: c?.SecretAccessKey ?? '',
            sessionToken: c?.SessionToken,
            expiration: c?.Expiration,
          };
        },
      });
      clients.set(accountId, client);
    }
    return client;
  };

  const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const ownAccountId = context?.invokedFunctionArn.split(':')[4];
    const batchItemFailures: SQSBatchItemFailure[] = [];
    for (const record of event.Records) {
      try {
        const request = JSON.parse(record.body);
        let outcome = 'REVOKED';
        try {
          await redshiftFor(request.consumerArn, ownAccountId).send(
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
      for (const client of [redshift, events, sts, ...clients.values()]) client.destroy();
    },
  };
};

export const { handler } = createBaselineHandler();
