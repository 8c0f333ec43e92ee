// Placeholder: replaced by the core worker (issue 2).
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

export const handler = async (_event: SQSEvent): Promise<SQSBatchResponse> => ({
  batchItemFailures: [],
});
