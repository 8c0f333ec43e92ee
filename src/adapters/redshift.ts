import {
  type DataShare,
  type DataShareAssociation,
  DisassociateDataShareConsumerCommand,
  paginateDescribeDataShares,
  RedshiftClient,
} from '@aws-sdk/client-redshift';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Association } from '../core/audit.js';
import { GoneVerdict, goneVerdictOf } from '../core/classify.js';
import { FailureKind, RedshiftCallError } from '../core/errors.js';
import { Outcome } from '../core/outcome.js';
import type { DisassociationTarget } from '../core/target.js';
import type { DataShareRevoker, DisassociationResult } from '../worker/ports.js';
import { failureDetailsOf, messageOf } from './aws-error.js';

export interface RedshiftClientOptions {
  requestTimeoutMs: number;
  connectionTimeoutMs?: number;
}

/**
 * One Redshift client per region, built once and kept for the life of the container. The
 * client's own retries are off (`maxAttempts: 1`): the worker's retry loop is the only one, so the
 * two never multiply. The request timeout really throws (`throwOnRequestTimeout`; since
 * @smithy/node-http-handler 4.4 it only warns by default).
 */
export class RedshiftClients {
  readonly #clients = new Map<string, RedshiftClient>();
  readonly #options: RedshiftClientOptions;

  constructor(options: RedshiftClientOptions, prebuilt: Record<string, RedshiftClient> = {}) {
    this.#options = options;
    for (const [region, client] of Object.entries(prebuilt)) this.#clients.set(region, client);
  }

  for(region: string): RedshiftClient {
    let client = this.#clients.get(region);
    if (!client) {
      client = new RedshiftClient({
        region,
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler({
          connectionTimeout: this.#options.connectionTimeoutMs ?? 2000,
          requestTimeout: this.#options.requestTimeoutMs,
          throwOnRequestTimeout: true,
        }),
      });
      this.#clients.set(region, client);
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

  constructor(clients: RedshiftClients) {
    this.#clients = clients;
  }

  async disassociate(
    target: DisassociationTarget,
    { region, signal }: { region: string; signal: AbortSignal },
  ): Promise<DisassociationResult> {
    const client = this.#clients.for(region);
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
      };
    } catch (error) {
      const verdict = goneVerdictOf(error as object);
      if (verdict === GoneVerdict.Gone)
        return { outcome: Outcome.AlreadyRevoked, associations: [] };
      if (verdict === GoneVerdict.Ambiguous)
        return this.#confirmGone(client, target, signal, error);
      throw this.#wrap(error, target, 'DisassociateDataShareConsumer');
    }
  }

  async #confirmGone(
    client: RedshiftClient,
    target: DisassociationTarget,
    signal: AbortSignal,
    original: unknown,
  ): Promise<DisassociationResult> {
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
