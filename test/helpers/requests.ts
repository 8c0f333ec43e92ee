/**
 * Factories for revocation requests (request contract, version 1), as a policy engine sends them
 * either as a bare SQS body or wrapped in an EventBridge envelope.
 */

export const DATA_SHARE_ARN =
  'arn:aws:redshift:us-east-1:444455556666:datashare:7b2c2b8a-1d1c-4c61-9b1a-2f0d4b3c5e6f/sales_share';
/** A provisioned consumer namespace, in another region than the producer. */
export const CONSUMER_ARN =
  'arn:aws:redshift:eu-west-1:111122223333:namespace:2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a';
/** The Redshift Serverless form of a consumer namespace ARN. */
export const SERVERLESS_CONSUMER_ARN =
  'arn:aws:redshift-serverless:ap-southeast-2:111122223333:namespace/9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d';

/**
 * A valid request naming one consumer namespace. An override set to `undefined` removes the field
 * (JSON drops it), so `validRequest({ consumerArn: undefined })` names no target.
 */
export const validRequest = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  eventId: 'evt-0001',
  dataShareArn: DATA_SHARE_ARN,
  consumerArn: CONSUMER_ARN,
  policyId: 'pii-exposure-7',
  issuedAt: '2026-11-25T08:00:00Z',
  reason: 'consumer lost its data-processing agreement',
  ...overrides,
});

/** `validRequest(overrides)` as an SQS message body. */
export const validBody = (overrides: Record<string, unknown> = {}): string =>
  JSON.stringify(validRequest(overrides));

/** An EventBridge event as an EventBridge rule delivers it to an SQS target. */
export const eventBridgeEnvelope = (
  detail: unknown,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> => ({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'Datashare Revocation Requested',
  source: 'governance.policy-engine',
  account: '123456789012',
  time: '2026-11-25T08:00:01Z',
  region: 'us-east-1',
  resources: [],
  detail,
  ...overrides,
});
