/**
 * The parts of `@aws-sdk/client-sqs` the worker's queue adapter uses, in one module that is
 * imported dynamically (as `sts-sdk.ts`): the worker calls SQS only for what does not end
 * acknowledged — a dead-letter copy, a message given back later — so Node reads the SQS SDK
 * at the first of those in a container, not at every cold start.
 */
export {
  ChangeMessageVisibilityBatchCommand,
  SendMessageBatchCommand,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
