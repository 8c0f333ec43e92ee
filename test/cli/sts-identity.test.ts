import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { withFallback } from '../../src/cli/identity.js';
import { callerIdentity, stsIdentity } from '../../src/cli/sts-identity.js';

const sts = mockClient(STSClient);
afterEach(() => sts.reset());

describe('revoker.replayedBy identity', () => {
  it("is the caller's IAM ARN from STS GetCallerIdentity", async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Arn: 'arn:aws:sts::123456789012:assumed-role/ops/alice' });
    await expect(stsIdentity({ AWS_REGION: 'eu-west-1' })()).resolves.toBe(
      'arn:aws:sts::123456789012:assumed-role/ops/alice',
    );
  });

  it('falls back to the OS user when STS cannot answer', async () => {
    sts.on(GetCallerIdentityCommand).rejects(new Error('no credentials'));
    const identity = withFallback(stsIdentity({}), async () => 'os-user');
    await expect(identity()).resolves.toBe('os-user');
  });

  it('does not ask STS when the SQS endpoint is an emulator and no STS endpoint is set', () => {
    expect(callerIdentity({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4566' })).toBeUndefined();
    expect(
      callerIdentity({
        AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4566',
        AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4567',
      }),
    ).toBeTypeOf('function');
    expect(callerIdentity({})).toBeTypeOf('function');
  });
});
