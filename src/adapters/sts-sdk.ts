/**
 * The parts of `@aws-sdk/client-sts` the consumer role uses, in one module that is imported
 * dynamically (as `lambda-sdk.ts`): esbuild keeps only these, and Node reads them only when a
 * worker in hub mode first assumes a spoke's role. A single-account worker never loads them.
 */
export { AssumeRoleCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
