/**
 * fauxqs lacks StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask. This fake
 * speaks the SQS JSON protocol (awsJson1_0, `X-Amz-Target: AmazonSQS.<Operation>`) for those three,
 * answering with recorded-shape responses, and forwards every other request to fauxqs untouched —
 * so GetQueueAttributes and the rest still run against the real emulator.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MoveTaskCall {
  operation: string;
  input: Record<string, unknown>;
}

export interface MoveTaskFake {
  endpoint: string;
  calls: MoveTaskCall[];
  /** Successive ListMessageMoveTasks answers; the last one repeats. */
  listResults: Record<string, unknown>[][];
  stop(): Promise<void>;
}

const MOVE_TASK_OPERATIONS = new Set([
  'StartMessageMoveTask',
  'ListMessageMoveTasks',
  'CancelMessageMoveTask',
]);

export const startMoveTaskFake = async (fauxqsAddress: string): Promise<MoveTaskFake> => {
  const upstream = new URL(fauxqsAddress);
  const calls: MoveTaskCall[] = [];
  const fake: Omit<MoveTaskFake, 'endpoint' | 'stop'> = { calls, listResults: [] };
  let listed = 0;

  const answer = (operation: string, input: Record<string, unknown>): unknown => {
    if (operation === 'StartMessageMoveTask') return { TaskHandle: 'task-handle-1' };
    if (operation === 'CancelMessageMoveTask') return { ApproximateNumberOfMessagesMoved: 3 };
    const results = fake.listResults[Math.min(listed, fake.listResults.length - 1)] ?? [];
    listed += 1;
    return { Results: results.map((r) => ({ SourceArn: input.SourceArn, ...r })) };
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').replace('AmazonSQS.', '');
      if (MOVE_TASK_OPERATIONS.has(operation)) {
        const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
        calls.push({ operation, input });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(answer(operation, input)));
        return;
      }
      const forward = request(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (upstreamResponse) => {
          res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(res);
        },
      );
      forward.on('error', () => res.writeHead(502).end());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...fake,
    get listResults() {
      return fake.listResults;
    },
    set listResults(value) {
      fake.listResults = value;
      listed = 0;
    },
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
};
