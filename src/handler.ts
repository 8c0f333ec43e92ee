import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadConfig } from './config.js';
import { createWorkerDependencies } from './wiring.js';
import { processBatch } from './worker/process-batch.js';

// Built once per container, during the cold start: configuration errors fail the init loudly,
// and clients (with their connections) are reused by every invocation.
const dependencies = await createWorkerDependencies(loadConfig(process.env));

/**
 * Lambda entry point for the SQS event source mapping (with `ReportBatchItemFailures`).
 *
 * @example
 * // serverless.yml: handler: src/handler.handler
 */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processBatch(event, context, dependencies);
