import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsClientFactory, AwsConnection } from './aws-clients.js';
import type { IdentityResolver } from './identity.js';
import type { Output } from './output.js';
import type { Sleep } from './rate.js';
import type { ResolvedStage } from './stage.js';

/** Asks the operator a yes/no question; resolves false for "no". */
export type Confirm = (question: string) => Promise<boolean>;

/**
 * What a command needs from the outside, injected so that tests drive commands with real SQS
 * (fauxqs), a memory output and scripted answers, and no process globals.
 */
export interface CommandContext {
  sqs: SQSClient;
  output: Output;
  now: () => number;
  sleep: Sleep;
  confirm: Confirm;
  identity: IdentityResolver;
  /** Aborted on SIGINT/SIGTERM: commands stop between batches and clean up. */
  signal?: AbortSignal;
  /** Builds the clients beyond SQS; absent in tests of SQS-only commands. */
  aws?: AwsClientFactory;
  /** `--region` and `--profile`, for the clients `aws` builds. */
  connection?: AwsConnection;
  /** The CLI's environment (endpoints, `REVOKER_STAGE`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The stage the command's resources were read from, when one was used. */
  stage?: ResolvedStage;
}

/** How long held DLQ messages stay invisible while a command scans (released at the end). */
export const HOLD_SECONDS = { list: 30, act: 300 } as const;

/** Long-poll wait of each DLQ receive: 1 s makes SQS ask all its servers (see DlqReader). */
export const DEFAULT_WAIT_TIME_SECONDS = 1;
