import { describe, expect, it } from 'vitest';
import { queueUrlFromArn } from '../../../src/core/sqs-arn.js';

describe('queueUrlFromArn', () => {
  it.each([
    [
      'arn:aws:sqs:us-east-1:123456789012:revocations',
      'https://sqs.us-east-1.amazonaws.com/123456789012/revocations',
    ],
    [
      'arn:aws:sqs:eu-west-1:123456789012:revocations.fifo',
      'https://sqs.eu-west-1.amazonaws.com/123456789012/revocations.fifo',
    ],
    [
      'arn:aws-us-gov:sqs:us-gov-west-1:123456789012:revocations',
      'https://sqs.us-gov-west-1.amazonaws.com/123456789012/revocations',
    ],
    [
      'arn:aws-cn:sqs:cn-north-1:123456789012:revocations',
      'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/revocations',
    ],
  ])('turns %s into the queue URL SQS forms', (arn, url) => {
    expect(queueUrlFromArn(arn)).toBe(url);
  });

  it.each([
    'https://sqs.us-east-1.amazonaws.com/123456789012/revocations',
    'arn:aws:sns:us-east-1:123456789012:topic',
    'arn:aws:sqs:us-east-1:12345:revocations',
    'arn:aws:sqs:us-east-1:123456789012:',
    '',
  ])('throws, quoting the value, when %j is not an SQS queue ARN', (arn) => {
    expect(() => queueUrlFromArn(arn)).toThrow(`Not an SQS queue ARN: ${JSON.stringify(arn)}`);
  });
});
