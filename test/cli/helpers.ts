/**
 * Test fixtures for the CLI: a real SQS (fauxqs, in-process), queues, dead-lettered messages in the
 * worker's own format, and a command context with a memory output and scripted answers.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  CreateQueueCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { toSqsAttribute } from '../../src/adapters/sqs.js';
import type { CommandContext } from '../../src/cli/context.js';
import { ConfirmationRefusedError } from '../../src/cli/errors.js';
import type { Output } from '../../src/cli/output.js';
import {
  deadLetterAttributes,
  type MessageAttribute,
  type QuarantineReason,
} from '../../src/core/dead-letter.js';

export const DATA_SHARE_SALES =
  'arn:aws:redshift:us-east-1:444455556666:datashare:7b2c2b8a-1d1c-4c61-9b1a-2f0d4b3c5e6f/sales';
export const DATA_SHARE_FINANCE =
  'arn:aws:redshift:us-east-1:777788889999:datashare:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/ledger';
export const CONSUMER =
  'arn:aws:redshift:us-east-1:111122223333:namespace:2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a';

/** A valid request body (request contract v1). */
export const requestBody = (eventId: string, overrides: Record<string, unknown> = {}): string =>
  JSON.stringify({
    eventId,
    dataShareArn: DATA_SHARE_SALES,
    consumerArn: CONSUMER,
    policyId: 'pii-exposure-7',
    issuedAt: '2026-11-25T08:00:00Z',
    ...overrides,
  });

export interface Fixture {
  server: FauxqsServer;
  sqs: SQSClient;
  /** Another client like `sqs` (destroyed by `stop()`), e.g. to add middleware to. */
  newClient(): SQSClient;
  createQueue(label: string, attributes?: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

let counter = 0;

/** fauxqs in-process; clients send to its address (`useQueueUrlAsEndpoint: false`). */
export const startFixture = async (): Promise<Fixture> => {
  const server = await startFauxqs({ port: 0, logger: false });
  const clients: SQSClient[] = [];
  const client = () => {
    const sqs = new SQSClient({
      endpoint: server.address,
      useQueueUrlAsEndpoint: false,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    clients.push(sqs);
    return sqs;
  };
  const sqs = client();
  return {
    server,
    sqs,
    newClient: client,
    async createQueue(label, attributes = {}) {
      counter += 1;
      const { QueueUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: `cli-${counter}-${label}`, Attributes: attributes }),
      );
      if (!QueueUrl) throw new Error('CreateQueue returned no URL');
      return QueueUrl;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await server.stop();
    },
  };
};

const queueName = (queueUrl: string): string => new URL(queueUrl).pathname.split('/').pop() ?? '';

/** Every message of a queue (ready, in flight, delayed), without touching it. */
export const inspect = (fixture: Fixture, queueUrl: string) => {
  const state = fixture.server.inspectQueue(queueName(queueUrl));
  if (!state) throw new Error(`no queue ${queueUrl}`);
  return state.messages;
};

export const readyBodies = (fixture: Fixture, queueUrl: string): string[] =>
  inspect(fixture, queueUrl)
    .ready.map((m) => m.body)
    .sort();

export const failureReason = (overrides: Partial<QuarantineReason> = {}): QuarantineReason => ({
  outcome: 'FAILED',
  errorCode: 'InvalidNamespaceFault',
  errorMessage: 'The namespace does not exist',
  sourceMessageId: 'source-1',
  receiveCount: 5,
  failedAt: new Date(Date.now() - 90_000).toISOString(),
  ...overrides,
});

/** Sends a dead-letter copy exactly as the worker builds it (original attributes + revoker.*). */
export const deadLetter = async (
  fixture: Fixture,
  dlqUrl: string,
  body: string,
  options: { original?: Record<string, MessageAttribute>; reason?: Partial<QuarantineReason> } = {},
): Promise<string> => {
  const attributes = deadLetterAttributes(options.original ?? {}, failureReason(options.reason));
  const { MessageId } = await fixture.sqs.send(
    new SendMessageCommand({
      QueueUrl: dlqUrl,
      MessageBody: body,
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([name, value]) => [name, toSqsAttribute(value)]),
      ),
    }),
  );
  return MessageId ?? '';
};

/** `count` producer attributes `a0..`, as the worker sees them (Lambda's shape). */
export const producerAttributes = (count: number): Record<string, MessageAttribute> =>
  Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      `attr${i}`,
      i === 0
        ? { dataType: 'Binary', binaryValue: Buffer.from([0, 1, 2, 250]).toString('base64') }
        : { dataType: i % 2 ? 'String' : 'Number.int', stringValue: String(100 + i) },
    ]),
  );

/** `producerAttributes(count)` as SQS returns them. */
export const producerAttributesAsSqs = (count: number): Record<string, MessageAttributeValue> =>
  Object.fromEntries(
    Object.entries(producerAttributes(count)).map(([name, value]) => [name, toSqsAttribute(value)]),
  );

export interface MemoryOutput {
  output: Output;
  stdout: string[];
  stderr: string[];
  /** stdout parsed as the command's JSON document. */
  json<T = Record<string, unknown>>(): T;
}

export const memoryOutput = (json = false): MemoryOutput => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    output: { json, result: (text) => stdout.push(text), note: (text) => stderr.push(text) },
    stdout,
    stderr,
    json: <T>() => JSON.parse(stdout.join('\n')) as T,
  };
};

export interface TestContext extends MemoryOutput {
  context: CommandContext;
  questions: string[];
}

/**
 * A command context over `sqs`. `answer`: what the operator says to a confirmation, or
 * `'no-tty'` to behave like a pipe (refuse, as the real prompt does).
 */
export const testContext = (
  sqs: SQSClient,
  options: { json?: boolean; answer?: boolean | 'no-tty'; signal?: AbortSignal } = {},
): TestContext => {
  const memory = memoryOutput(options.json ?? false);
  const questions: string[] = [];
  return {
    ...memory,
    questions,
    context: {
      sqs,
      output: memory.output,
      now: Date.now,
      sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : undefined),
      confirm: async (question) => {
        questions.push(question);
        if (options.answer === 'no-tty') {
          throw new ConfirmationRefusedError(`${question} — cannot ask: stdin is not a terminal`);
        }
        return options.answer ?? false;
      },
      identity: async () => 'alice',
      ...(options.signal && { signal: options.signal }),
    },
  };
};
