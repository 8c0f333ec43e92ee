import {
  type DataShare,
  type DataShareAssociation,
  DisassociateDataShareConsumerCommand,
  paginateDescribeDataShares,
  RedshiftClient,
} from '@aws-sdk/client-redshift';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { partitionOfArn } from '../core/arn.js';
import type { Association } from '../core/audit.js';
import { GoneVerdict, goneVerdictOf } from '../core/classify.js';
import { FailureKind, RedshiftCallError } from '../core/errors.js';
import { Outcome } from '../core/outcome.js';
import type { DisassociationTarget } from '../core/target.js';
import type {
  Actor,
  AssociationsRead,
  DataShareRevoker,
  DisassociationResult,
} from '../worker/ports.js';
import { failureDetailsOf, messageOf } from './aws-error.js';
import type { ConsumerRoleCredentials } from './consumer-role.js';

export interface RedshiftClientOptions {
  requestTimeoutMs: number;
  connectionTimeoutMs?: number;
  /** Hub mode: the consumer role's credentials, for calls made in consumer accounts. */
  consumerRole?: ConsumerRoleCredentials;
}

/**
 * One Redshift client per region and identity (the function's own, or a consumer account's
 * role), built once and kept for the life of the container. The client's own retries are off
 * (`maxAttempts: 1`): the worker's retry loop is the only one, so the two never multiply. The
 * request timeout really throws (`throwOnRequestTimeout`; since @smithy/node-http-handler 4.4 it
 * only warns by default).
 */
export class RedshiftClients {
  readonly #clients = new Map<string, RedshiftClient>();
  readonly #options: RedshiftClientOptions;

  /** @param prebuilt clients of the function's own identity, by region. */
  constructor(options: RedshiftClientOptions, prebuilt: Record<string, RedshiftClient> = {}) {
    this.#options = options;
    for (const [region, client] of Object.entries(prebuilt))
      this.#clients.set(`own|${region}`, client);
  }

  get consumerRole(): ConsumerRoleCredentials | undefined {
    return this.#options.consumerRole;
  }

  /**
   * Forgets the client of a role, so the next call builds one that asks for credentials afresh
   * (the SDK keeps a client's credentials until they are about to expire).
   */
  forget(region: string, roleArn: string): void {
    this.#clients.get(`${roleArn}|${region}`)?.destroy();
    this.#clients.delete(`${roleArn}|${region}`);
  }

  /** The client for `region`, as the function itself or, given `roleArn`, as that role. */
  for(region: string, roleArn?: string): RedshiftClient {
    const key = `${roleArn ?? 'own'}|${region}`;
    let client = this.#clients.get(key);
    if (!client) {
      const role = this.#options.consumerRole;
      if (roleArn !== undefined && !role)
        throw new TypeError(`No consumer role configured to act as ${roleArn}`);
      const requestTimeout = this.#options.requestTimeoutMs;
      client = new RedshiftClient({
        region,
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler({
          connectionTimeout: this.#options.connectionTimeoutMs ?? 2000,
          requestTimeout,
          throwOnRequestTimeout: true,
        }),
        // The revoker fetches the role's credentials (bounded by its deadline) before each call,
        // so this provider answers from the cache.
        ...(roleArn !== undefined &&
          role && {
            credentials: () => role.get(roleArn, AbortSignal.timeout(requestTimeout)),
          }),
      });
      this.#clients.set(key, client);
    }
    return client;
  }
}

const toAssociation = (association: DataShareAssociation): Association => ({
  ...(association.ConsumerIdentifier !== undefined && {
    consumerIdentifier: association.ConsumerIdentifier,
  }),
  ...(association.Status !== undefined && { status: association.Status }),
  ...(association.ConsumerRegion !== undefined && { consumerRegion: association.ConsumerRegion }),
  ...(association.CreatedDate !== undefined && {
    createdDate: association.CreatedDate.toISOString(),
  }),
  ...(association.StatusChangeDate !== undefined && {
    statusChangeDate: association.StatusChangeDate.toISOString(),
  }),
});

/** What a service answers to temporary credentials that are no longer valid. */
const REJECTED_CREDENTIALS = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'RequestExpired',
]);

/** Whether an association still gives the target's consumer access. */
const grantsTarget = (association: DataShareAssociation, target: DisassociationTarget): boolean => {
  if (association.Status !== 'ACTIVE') return false;
  switch (target.consumer.kind) {
    case 'namespace':
      return association.ConsumerIdentifier === target.consumer.arn;
    case 'region':
      return association.ConsumerRegion === target.consumer.region;
    case 'account':
      return /^\d{12}$/.test(association.ConsumerIdentifier ?? '');
  }
};

/**
 * `DataShareRevoker` over the Redshift API, called from the consumer account. "Already gone"
 * answers become `ALREADY_REVOKED`; where Redshift's message is ambiguous, a `DescribeDataShares`
 * call confirms it. Every other failure is classified once, here, into a `RedshiftCallError`.
 */
export class RedshiftDataShareRevoker implements DataShareRevoker {
  readonly #clients: RedshiftClients;
  readonly #ownRoleArn: string | undefined;

  /** @param ownRoleArn the function's own role, reported as the actor of its own calls. */
  constructor(clients: RedshiftClients, ownRoleArn?: string) {
    this.#clients = clients;
    this.#ownRoleArn = ownRoleArn;
  }

  async disassociate(
    target: DisassociationTarget,
    { region, signal, assumeRole }: { region: string; signal: AbortSignal; assumeRole: boolean },
  ): Promise<DisassociationResult> {
    const { client, actor, roleArn } = await this.#caller(target, region, assumeRole, signal);
    const { consumer } = target;
    try {
      const output = await client.send(
        new DisassociateDataShareConsumerCommand({
          DataShareArn: target.dataShareArn,
          ...(consumer.kind === 'namespace' && { ConsumerArn: consumer.arn }),
          ...(consumer.kind === 'region' && { ConsumerRegion: consumer.region }),
          ...(consumer.kind === 'account' && { DisassociateEntireAccount: true }),
        }),
        { abortSignal: signal },
      );
      return {
        outcome: Outcome.Revoked,
        associations: (output.DataShareAssociations ?? []).map(toAssociation),
        actor,
        ...(output.$metadata?.requestId !== undefined && {
          requestId: output.$metadata.requestId,
        }),
      };
    } catch (error) {
      const verdict = goneVerdictOf(error as object);
      // "Not associated" is Redshift's answer too: its request id joins the audit to CloudTrail.
      const details = failureDetailsOf(error);
      const requestId = details.requestId;
      const answered = { actor, ...(requestId !== undefined && { requestId }) };
      if (verdict === GoneVerdict.Gone)
        return { outcome: Outcome.AlreadyRevoked, associations: [], ...answered };
      if (verdict === GoneVerdict.Ambiguous)
        return { ...(await this.#confirmGone(client, target, signal, error)), ...answered };
      throw this.#failure(error, target, region, roleArn, 'DisassociateDataShareConsumer');
    }
  }

  async describeAssociations(
    target: DisassociationTarget,
    { region, signal, assumeRole }: { region: string; signal: AbortSignal; assumeRole: boolean },
  ): Promise<AssociationsRead> {
    const { client, actor, roleArn } = await this.#caller(target, region, assumeRole, signal);
    const associations: Association[] = [];
    let requestId: string | undefined;
    try {
      for await (const page of paginateDescribeDataShares(
        { client, pageSize: 100 },
        { DataShareArn: target.dataShareArn },
        { abortSignal: signal },
      )) {
        requestId = page.$metadata?.requestId ?? requestId;
        for (const share of page.DataShares ?? [])
          if (share.DataShareArn === target.dataShareArn)
            associations.push(...(share.DataShareAssociations ?? []).map(toAssociation));
      }
    } catch (error) {
      const details = failureDetailsOf(error);
      // The consumer account cannot see the datashare at all: it has no association with it.
      if (details.code === 'InvalidDataShareFault')
        return {
          associations: [],
          actor,
          ...(details.requestId !== undefined && { requestId: details.requestId }),
        };
      throw this.#failure(error, target, region, roleArn, 'DescribeDataShares');
    }
    return { associations, actor, ...(requestId !== undefined && { requestId }) };
  }

  /**
   * The client to call with, and who that is: in hub mode the consumer role's (its credentials
   * fetched first, bounded by the attempt's signal, so that a denial or an STS fault is this
   * attempt's failure, classified as `ConsumerRoleError`, before Redshift is called).
   */
  async #caller(
    target: DisassociationTarget,
    region: string,
    assumeRole: boolean,
    signal: AbortSignal,
  ): Promise<{ client: RedshiftClient; actor: Actor; roleArn: string | undefined }> {
    const role = assumeRole ? this.#clients.consumerRole : undefined;
    if (assumeRole && !role)
      throw new TypeError('Asked to act as a consumer role, but none is configured');
    const roleArn = role?.roleArn(target.accountId, partitionOfArn(target.dataShareArn));
    if (role && roleArn) await role.get(roleArn, signal);
    return {
      client: this.#clients.for(region, roleArn),
      actor: { accountId: target.accountId, roleArn: roleArn ?? this.#ownRoleArn ?? null },
      roleArn,
    };
  }

  /** Classifies a failed call; refused role credentials are dropped, to be assumed afresh. */
  #failure(
    error: unknown,
    target: DisassociationTarget,
    region: string,
    roleArn: string | undefined,
    operation: string,
  ): RedshiftCallError {
    const details = failureDetailsOf(error);
    const role = this.#clients.consumerRole;
    if (role && roleArn && REJECTED_CREDENTIALS.has(details.code)) {
      // The role's session ended early (revoked, or clocks apart): forget it and try again
      // with fresh credentials, rather than fail the decision for good.
      role.invalidate(roleArn);
      this.#clients.forget(region, roleArn);
      return new RedshiftCallError(
        `Redshift refused the credentials of ${roleArn} (${details.code}): ${messageOf(error)}; they are dropped and assumed afresh`,
        { ...details, kind: FailureKind.Transient },
        { dataShareArn: target.dataShareArn, operation },
        { cause: error },
      );
    }
    return this.#wrap(error, target, operation);
  }

  async #confirmGone(
    client: RedshiftClient,
    target: DisassociationTarget,
    signal: AbortSignal,
    original: unknown,
  ): Promise<Omit<DisassociationResult, 'actor'>> {
    let share: DataShare | undefined;
    try {
      for await (const page of paginateDescribeDataShares(
        { client, pageSize: 100 },
        { DataShareArn: target.dataShareArn },
        { abortSignal: signal },
      )) {
        share =
          (page.DataShares ?? []).find(
            (candidate) => candidate.DataShareArn === target.dataShareArn,
          ) ?? share;
      }
    } catch (error) {
      if (failureDetailsOf(error).code === 'InvalidDataShareFault') {
        // The consumer account cannot see the datashare at all: nothing left to revoke.
        return { outcome: Outcome.AlreadyRevoked, associations: [] };
      }
      throw this.#wrap(error, target, 'DescribeDataShares');
    }
    const associations = share?.DataShareAssociations ?? [];
    if (associations.some((association) => grantsTarget(association, target))) {
      throw new RedshiftCallError(
        `Redshift said the consumer is not associated (${messageOf(original)}), but DescribeDataShares still lists an ACTIVE association`,
        { kind: FailureKind.Transient, code: 'AssociationStillActive' },
        { dataShareArn: target.dataShareArn },
        { cause: original },
      );
    }
    return { outcome: Outcome.AlreadyRevoked, associations: associations.map(toAssociation) };
  }

  #wrap(error: unknown, target: DisassociationTarget, operation: string): RedshiftCallError {
    const details = failureDetailsOf(error);
    return new RedshiftCallError(
      `${operation} failed: ${details.code}: ${messageOf(error)}`,
      details,
      { dataShareArn: target.dataShareArn, operation },
      { cause: error },
    );
  }
}
