/**
 * What batching a batch's claims would save, measured before building it: the client-side CPU of
 * a batch of 10 claims made today (10 conditional `UpdateItem`s, through the worker's own
 * `DynamoDbIdempotencyStore.claim`) against the same 10 updates in one `TransactWriteItems` —
 * the request a batched claim would send. The server is a child process that answers every
 * request `{}` (as DynamoDB answers both on success), so only the worker's side is measured: SDK
 * serialisation, signing, HTTP. Not measured: DynamoDB's own time, the doubled write units of a
 * transaction, or what a cancelled transaction costs (a second request). Usage:
 *   npm exec -- tsx bench/profile/claims-batch.ts [--batches 300] [--rounds 6]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  DynamoDBClient,
  TransactWriteItemsCommand,
  type TransactWriteItemsInput,
  type Update,
  type UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoDbIdempotencyStore } from '../../src/adapters/dynamodb-store.js';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '6' },
  },
});
const BATCHES = Number(values.batches);
const ROUNDS = Number(values.rounds);
const BATCH_SIZE = 10;
const TABLE = 'revoker-idempotency';

/** A server in its own process: its CPU is not the client's. Prints its port when listening. */
const startServer = (): Promise<{ child: ChildProcess; port: number }> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '-e',
        [
          "const http = require('node:http');",
          'const server = http.createServer((req, res) => { req.resume(); req.on("end", () => {',
          "  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'bench' });",
          "  res.end('{}'); }); });",
          "server.listen(0, '127.0.0.1', () => console.log(server.address().port));",
        ].join('\n'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.stdout?.once('data', (chunk: Buffer) =>
      resolve({ child, port: Number(chunk.toString().trim()) }),
    );
    child.once('error', reject);
  });

const main = async () => {
  const { child, port } = await startServer();
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 2000, requestTimeout: 3000 }),
  });
  const store = new DynamoDbIdempotencyStore({
    client,
    tableName: TABLE,
    ttlSeconds: 86_400,
    minRetentionSeconds: 0,
  });
  // The claim's own UpdateItem input, caught as the store sends it: the transaction below carries
  // the very same updates.
  const sent: UpdateItemCommand['input'][] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand' && capturing)
        sent.push(args.input as UpdateItemCommand['input']);
      return next(args);
    },
    { step: 'initialize', name: 'captureClaims' },
  );
  let capturing = true;
  const lease = (b: number) => ({ owner: `bench/${b}`, until: Date.now() + 30_000 });
  await Promise.all(
    Array.from({ length: BATCH_SIZE }, (_, i) =>
      store.claim(`capture/${i}`, lease(0), AbortSignal.timeout(3000)),
    ),
  );
  capturing = false;
  const template = sent.slice(0, BATCH_SIZE);
  const transactionOf = (b: number): TransactWriteItemsInput => ({
    TransactItems: template.map((input, i) => ({
      Update: {
        ...(input as Update),
        Key: { id: { S: `event#tx/${b}/${i}` } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    })),
  });

  const today = async (b: number) => {
    await Promise.all(
      Array.from({ length: BATCH_SIZE }, (_, i) =>
        store.claim(`today/${b}/${i}`, lease(b), AbortSignal.timeout(3000)),
      ),
    );
  };
  const batched = async (b: number) => {
    await client.send(new TransactWriteItemsCommand(transactionOf(b)));
  };
  const measure = async (run: (b: number) => Promise<void>) => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let b = 0; b < BATCHES; b++) await run(b);
    const used = process.cpuUsage(cpu);
    return {
      cpuMsPerClaim: (used.user + used.system) / 1000 / (BATCHES * BATCH_SIZE),
      wallMsPerBatch: (performance.now() - started) / BATCHES,
    };
  };
  // Warm both paths (JIT, connections), then alternate, so that drift hits both alike.
  await measure(today);
  await measure(batched);
  const results: {
    today: number[];
    batched: number[];
    wallToday: number[];
    wallBatched: number[];
  } = { today: [], batched: [], wallToday: [], wallBatched: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order =
      round % 2 === 0 ? (['today', 'batched'] as const) : (['batched', 'today'] as const);
    for (const side of order) {
      const figures = await measure(side === 'today' ? today : batched);
      if (side === 'today') {
        results.today.push(figures.cpuMsPerClaim);
        results.wallToday.push(figures.wallMsPerBatch);
      } else {
        results.batched.push(figures.cpuMsPerClaim);
        results.wallBatched.push(figures.wallMsPerBatch);
      }
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const t = median(results.today);
  const x = median(results.batched);
  process.stdout.write(
    `${JSON.stringify(
      {
        batches: BATCHES,
        rounds: ROUNDS,
        batchSize: BATCH_SIZE,
        cpuMsPerClaim: { today: +t.toFixed(4), batched: +x.toFixed(4), saved: +(t - x).toFixed(4) },
        wallMsPerBatch: {
          today: +median(results.wallToday).toFixed(2),
          batched: +median(results.wallBatched).toFixed(2),
        },
        spread: {
          today: results.today.map((v) => +v.toFixed(4)),
          batched: results.batched.map((v) => +v.toFixed(4)),
        },
      },
      null,
      2,
    )}\n`,
  );
  client.destroy();
  child.kill();
};

await main();
