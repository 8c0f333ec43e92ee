import type { IncomingMessage } from 'node:http';
import { readBody } from '../http.js';

/** The operation a request calls, and what the proxy had to read to find it. */
export interface IdentifiedRequest {
  /** `PutItem`, `SendMessageBatch`…; `(unknown)` when the request names none. */
  operation: string;
  /** `json` (awsJson: the answer is JSON) or `query` (awsQuery: the answer is XML). */
  protocol: 'json' | 'query';
  /** The body when it had to be read (awsQuery); otherwise it is still to be streamed. */
  body?: Buffer;
}

export const UNKNOWN_OPERATION = '(unknown)';

/**
 * Finds the operation of a request without consuming a JSON body: awsJson names it in
 * `X-Amz-Target: <Service>.<Operation>` (DynamoDB `DynamoDB_20120810.PutItem`, SQS
 * `AmazonSQS.SendMessage`, which `@aws-sdk/client-sqs` sends since it moved to awsJson1_0). An
 * awsQuery request names it in its form body (`Action=...`), so that body is read (it is small:
 * the APIs cap it at a few hundred KiB) and handed back to be forwarded.
 */
export const identifyOperation = async (request: IncomingMessage): Promise<IdentifiedRequest> => {
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string' && target !== '') {
    return { operation: target.slice(target.lastIndexOf('.') + 1), protocol: 'json' };
  }
  const contentType = request.headers['content-type'] ?? '';
  if (contentType.includes('application/x-www-form-urlencoded')) {
    const body = await readBody(request);
    const action = new URLSearchParams(body.toString('utf8')).get('Action');
    return { operation: action || UNKNOWN_OPERATION, protocol: 'query', body };
  }
  return { operation: UNKNOWN_OPERATION, protocol: 'json' };
};
