import type { STSClient, STSClientConfig } from '@aws-sdk/client-sts';
import { type Clock, systemClock } from '../core/deadline.js';
import { ConsumerRoleError, FailureKind } from '../core/errors.js';
import { failureDetailsOf, messageOf } from './aws-error.js';
import { onFirstUse } from './first-use.js';

/** Temporary credentials, in the shape every SDK client takes as `credentials`. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Credentials are refreshed this long before they expire (the SDK's own margin, too). */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60 * 1000;

/** STS answers these when the role may not be assumed: it is missing, or its trust or ExternalId is wrong. */
const DENIED_CODES = new Set(['AccessDenied', 'AccessDeniedException']);

/** STS's rule for `RoleSessionName`: 2 to 64 characters of `[\w+=,.@-]`. */
export const sessionNameOf = (functionName: string, containerId: string): string => {
  const name = `${functionName}-${containerId}`.replace(/[^\w+=,.@-]/g, '-');
  // Keep the container id (the end) when the function name is long.
  return name.length <= 64 ? name.padEnd(2, '-') : name.slice(name.length - 64);
};

export interface ConsumerRoleOptions {
  /**
   * The STS client's configuration. The client is built, and the STS SDK loaded, at the first
   * `AssumeRole` (see `sts-sdk.ts`): a container that never calls a spoke never reads it.
   */
  clientConfig: STSClientConfig;
  /** The role's name, the same in every consumer account. */
  roleName: string;
  externalId?: string;
  sessionSeconds: number;
  /** Identifies the worker in the consumer account's CloudTrail (see `sessionNameOf`). */
  sessionName: string;
  clock?: Clock;
}

type StsSdk = typeof import('./sts-sdk.js');

interface Cached {
  credentials: AwsCredentialIdentity;
  refreshAt: number;
}

/**
 * Temporary credentials of the consumer role in each account, by STS `AssumeRole`. Cached per role
 * until 5 minutes before they expire; concurrent misses for one role share one `AssumeRole` call
 * (STS throttling limits cannot be raised). The client should make one attempt per call: the
 * worker's retry loop retries, bounded by its deadline.
 */
export class ConsumerRoleCredentials {
  readonly #options: ConsumerRoleOptions;
  readonly #clock: Clock;
  readonly #cache = new Map<string, Cached>();
  readonly #pending = new Map<string, Promise<AwsCredentialIdentity>>();
  /** The STS SDK and client, loaded and built at the first call. */
  readonly #load: () => Promise<{ sdk: StsSdk; client: STSClient }>;

  constructor(options: ConsumerRoleOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#load = onFirstUse(() =>
      import('./sts-sdk.js').then((sdk) => ({
        sdk,
        client: new sdk.STSClient(options.clientConfig),
      })),
    );
  }

  /** Drops a role's cached credentials: STS or the service said they are no longer valid. */
  invalidate(roleArn: string): void {
    this.#cache.delete(roleArn);
  }

  roleArn(accountId: string, partition = 'aws'): string {
    return `arn:${partition}:iam::${accountId}:role/${this.#options.roleName}`;
  }

  /**
   * The role's credentials, from the cache or one `AssumeRole` call shared by every concurrent
   * caller. A caller's signal bounds its own wait, not the shared call (whose other callers may
   * have more time); the call itself is bounded by the client's request timeout.
   *
   * @throws {ConsumerRoleError} `ConsumerRoleDenied` (permanent) naming the role, or STS's own
   * code, classified (throttling and 5xx are transient).
   */
  async get(roleArn: string, signal: AbortSignal): Promise<AwsCredentialIdentity> {
    const cached = this.#cache.get(roleArn);
    if (cached && this.#clock() < cached.refreshAt) return cached.credentials;
    let pending = this.#pending.get(roleArn);
    if (!pending) {
      pending = this.#assume(roleArn).finally(() => this.#pending.delete(roleArn));
      this.#pending.set(roleArn, pending);
    }
    return abortable(pending, signal);
  }

  async #assume(roleArn: string): Promise<AwsCredentialIdentity> {
    const { externalId, sessionSeconds, sessionName } = this.#options;
    try {
      const { sdk, client } = await this.#load();
      const output = await client.send(
        new sdk.AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionName,
          DurationSeconds: sessionSeconds,
          ...(externalId !== undefined && { ExternalId: externalId }),
        }),
      );
      const c = output.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey)
        throw new Error('AssumeRole returned no credentials');
      const expiration = c.Expiration ?? new Date(this.#clock() + sessionSeconds * 1000);
      const credentials: AwsCredentialIdentity = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken !== undefined && { sessionToken: c.SessionToken }),
        expiration,
      };
      // Refreshed 5 minutes before they expire; credentials issued for less than twice that
      // (a short session) are used for the first half of their life, not refetched at every call.
      const lifetime = expiration.getTime() - this.#clock();
      this.#cache.set(roleArn, {
        credentials,
        refreshAt: expiration.getTime() - Math.min(REFRESH_BEFORE_EXPIRY_MS, lifetime / 2),
      });
      return credentials;
    } catch (error) {
      throw this.#wrap(error, roleArn);
    }
  }

  #wrap(error: unknown, roleArn: string): ConsumerRoleError {
    const details = failureDetailsOf(error);
    if (DENIED_CODES.has(details.code))
      return new ConsumerRoleError(
        `The consumer role ${roleArn} could not be assumed (missing, or its trust policy or ExternalId does not admit this worker): ${messageOf(error)}`,
        { ...details, kind: FailureKind.Permanent, code: 'ConsumerRoleDenied' },
        { roleArn },
        { cause: error },
      );
    // An STS throttle is retried like a transient fault: it says nothing about Redshift's rate,
    // so it must not slow the account's Redshift gate down.
    const kind = details.kind === FailureKind.Throttled ? FailureKind.Transient : details.kind;
    return new ConsumerRoleError(
      `AssumeRole of ${roleArn} failed: ${details.code}: ${messageOf(error)}`,
      { ...details, kind },
      { roleArn },
      { cause: error },
    );
  }
}

/** Waits for `promise`, or rejects when `signal` aborts first. */
const abortable = <T>(promise: Promise<T>, signal: AbortSignal): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });

const abortError = (signal: AbortSignal): ConsumerRoleError =>
  new ConsumerRoleError(
    `Gave up waiting for consumer role credentials: ${messageOf(signal.reason)}`,
    { kind: FailureKind.Transient, code: 'TimeoutError' },
    {},
    { cause: signal.reason },
  );
