import { regionOfNamespaceArn } from './arn.js';
import type { RevocationRequest } from './request.js';

/** Who loses access: one consumer namespace, every namespace in a region, or the whole account. */
export type Consumer =
  | { kind: 'namespace'; arn: string }
  | { kind: 'region'; region: string }
  | { kind: 'account' };

/** Exactly what one `DisassociateDataShareConsumer` call removes. */
export interface DisassociationTarget {
  dataShareArn: string;
  consumer: Consumer;
}

/** The target a (schema-valid) request names. */
export const targetOf = (request: RevocationRequest): DisassociationTarget => {
  const consumer: Consumer =
    request.consumerArn !== undefined
      ? { kind: 'namespace', arn: request.consumerArn }
      : request.consumerRegion !== undefined
        ? { kind: 'region', region: request.consumerRegion }
        : { kind: 'account' };
  return { dataShareArn: request.dataShareArn, consumer };
};

/** A stable key for a target: requests with equal keys can share one Redshift call. */
export const targetKey = ({ dataShareArn, consumer }: DisassociationTarget): string => {
  switch (consumer.kind) {
    case 'namespace':
      return `${dataShareArn}|namespace|${consumer.arn}`;
    case 'region':
      return `${dataShareArn}|region|${consumer.region}`;
    case 'account':
      return `${dataShareArn}|account`;
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
