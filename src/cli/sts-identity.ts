import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { IdentityResolver } from './identity.js';

/** A replay must not wait long on a trail entry: STS answers in milliseconds or not at all. */
const STS_TIMEOUT_MS = 3000;

/**
 * The caller's IAM ARN from STS `GetCallerIdentity`: verified by AWS, unlike the OS user name.
 * It needs no permission (any valid credentials may call it).
 */
export const stsIdentity =
  (env: Readonly<Record<string, string | undefined>>): IdentityResolver =>
  async () => {
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const client = new STSClient({
      region,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: STS_TIMEOUT_MS,
        requestTimeout: STS_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      }),
    });
    try {
      const output = await client.send(new GetCallerIdentityCommand({}), {
        abortSignal: AbortSignal.timeout(STS_TIMEOUT_MS),
      });
      return output.Arn ?? '';
    } finally {
      client.destroy();
    }
  };

/**
 * STS first, the OS user when STS can't answer. Against an emulator (an SQS endpoint override
 * and no STS one) there is no STS to ask, and the OS user is the truth.
 */
export const callerIdentity = (
  env: Readonly<Record<string, string | undefined>>,
): IdentityResolver | undefined =>
  (env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL) && !env.AWS_ENDPOINT_URL_STS
    ? undefined
    : stsIdentity(env);
