import { describe, expect, it } from 'vitest';
import { describeFailure, ExitCode, toCliError } from '../../src/cli/errors.js';

const sdkError = (name: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 }, ...extra });

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/111122223333/revocations-dlq';

describe('CLI errors', () => {
  it.each([
    [
      sdkError('QueueDoesNotExist', 'The specified queue does not exist.'),
      /^queue does not exist: https:/,
    ],
    [
      sdkError('Error', 'x', { Code: 'AWS.SimpleQueueService.NonExistentQueue' }),
      /^queue does not exist/,
    ],
    [
      sdkError('CredentialsProviderError', 'Could not load credentials from any providers'),
      /^no AWS credentials found \(ReceiveMessage on https:.*\): set AWS_PROFILE/,
    ],
    [
      sdkError(
        'AccessDenied',
        'User: arn:aws:iam::1:user/bob is not authorized to perform: sqs:receivemessage',
        {
          $metadata: { httpStatusCode: 403 },
        },
      ),
      /^access denied \(ReceiveMessage on https:.*\): User: arn:aws:iam::1:user\/bob is not authorized/,
    ],
    [
      sdkError('InvalidClientTokenId', 'The security token included in the request is invalid.'),
      /^AWS rejected the credentials/,
    ],
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      /^cannot reach the SQS endpoint/,
    ],
    [new Error('Region is missing'), /^no AWS region: pass --region or set AWS_REGION$/],
  ])('turns %s into one line with exit code 2', (error, line) => {
    // Act
    const cliError = toCliError(error, 'ReceiveMessage', QUEUE);

    // Assess
    expect(cliError.exitCode).toBe(ExitCode.Unusable);
    expect(cliError.message).toMatch(line);
    expect(cliError.message).not.toContain('\n');
    expect(cliError.cause).toBe(error);
  });

  it('reports any other failure as exit code 1, naming the operation and the queue', () => {
    // Act
    const cliError = toCliError(
      sdkError('ThrottlingException', 'Rate exceeded\n  at somewhere'),
      'SendMessageBatch',
      QUEUE,
    );

    // Assess
    expect(cliError.exitCode).toBe(ExitCode.Failed);
    expect(cliError.message).toBe(
      `SendMessageBatch failed on ${QUEUE}: ThrottlingException: Rate exceeded`,
    );
  });

  it('describes an unexpected error in one line, never with its stack', () => {
    // Act
    const failure = describeFailure(new TypeError('boom\nstack line'));

    // Assess
    expect(failure).toEqual({ line: 'unexpected error: boom', exitCode: 1 });
  });
});
