import { accountOfNamespaceArn, regionOfNamespaceArn } from './arn.js';
import type { RevocationRequest } from './request.js';

/** Who loses access: one consumer namespace, every namespace in a region, or the whole account. */
export type Consumer =
  | { kind: 'namespace'; arn: string }
  | { kind: 'region'; region: string }
  | { kind: 'account' };

/** Exactly what one `DisassociateDataShareConsumer` call removes, and in which account. */
export interface DisassociationTarget {
  dataShareArn: string;
  consumer: Consumer;
  /**
   * The consumer account, where the call must be made: a namespace ARN's own account; for
   * region- and account-wide targets `consumerAccountId`, else the worker's own account.
   */
  accountId: string;
}

/**
 * The target a (schema-valid) request names. `ownAccountId` is the worker's own account: the
 * consumer account of a region- or account-wide request that names none.
 */
export const targetOf = (
  request: RevocationRequest,
  ownAccountId: string,
): DisassociationTarget => {
  const consumer: Consumer =
    request.consumerArn !== undefined
      ? { kind: 'namespace', arn: request.consumerArn }
      : request.consumerRegion !== undefined
        ? { kind: 'region', region: request.consumerRegion }
        : { kind: 'account' };
  const accountId =
    (consumer.kind === 'namespace' ? accountOfNamespaceArn(consumer.arn) : undefined) ??
    request.consumerAccountId ??
    ownAccountId;
  return { dataShareArn: request.dataShareArn, consumer, accountId };
};

/**
 * A stable key for a target: requests with equal keys can share one Redshift call (rule 4) and
 * one confirmation (rule 5). Region- and account-wide targets include the account: the same
 * region in two accounts is two targets. (A namespace ARN already names its account.)
 */
export const targetKey = ({ dataShareArn, consumer, accountId }: DisassociationTarget): string => {
  switch (consumer.kind) {
    case 'namespace':
      return `${dataShareArn}|namespace|${consumer.arn}`;
    case 'region':
      return `${dataShareArn}|region|${accountId}|${consumer.region}`;
    case 'account':
      return `${dataShareArn}|account|${accountId}`;
  }
};

/**
 * The region whose Redshift endpoint receives the call: the consumer namespace's own region when
 * the target names one (the call is made from the consumer side), else the worker's region.
 */
export const callRegionOf = (target: DisassociationTarget, defaultRegion: string): string =>
  target.consumer.kind === 'namespace'
    ? (regionOfNamespaceArn(target.consumer.arn) ?? defaultRegion)
    : defaultRegion;

/** The consumer as the audit event shows it. */
export const consumerForAudit = (
  consumer: Consumer,
): { arn: string } | { region: string } | { entireAccount: true } => {
  switch (consumer.kind) {
    case 'namespace':
      return { arn: consumer.arn };
    case 'region':
      return { region: consumer.region };
    case 'account':
      return { entireAccount: true };
  }
};
