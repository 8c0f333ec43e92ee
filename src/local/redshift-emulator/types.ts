/** Association statuses of the Redshift API (`DataShareStatus`). Only `ACTIVE` grants access. */
export const ASSOCIATION_STATUSES = [
  'ACTIVE',
  'PENDING_AUTHORIZATION',
  'AUTHORIZED',
  'DEAUTHORIZED',
  'REJECTED',
  'AVAILABLE',
] as const;
export type AssociationStatus = (typeof ASSOCIATION_STATUSES)[number];

/** The operations this emulator speaks; any other `Action` is answered with `InvalidAction`. */
export const REDSHIFT_OPERATIONS = [
  'DisassociateDataShareConsumer',
  'AssociateDataShareConsumer',
  'DescribeDataShares',
  'DescribeDataSharesForConsumer',
  'DescribeDataSharesForProducer',
] as const;
export type RedshiftOperation = (typeof REDSHIFT_OPERATIONS)[number];

/** One consumer's association with a datashare, as the emulator stores it. */
export interface DataShareAssociationState {
  /** A namespace ARN, or a 12-digit account id (entire-account and region-wide associations). */
  consumerIdentifier: string;
  status: AssociationStatus;
  /** Set for a region-wide association: every existing and future namespace in that region. */
  consumerRegion?: string;
  createdDate: Date;
  statusChangeDate: Date;
  producerAllowedWrites?: boolean;
  consumerAcceptedWrites?: boolean;
}

/** One datashare, keyed by its ARN. */
export interface DataShareState {
  dataShareArn: string;
  /** The producer namespace ARN. */
  producerArn: string;
  allowPubliclyAccessibleConsumers: boolean;
  dataShareType: 'INTERNAL';
  managedBy?: string;
  associations: DataShareAssociationState[];
}

/**
 * Whom a Disassociate/Associate call targets: the request carries exactly one of `ConsumerArn`,
 * `ConsumerRegion` or `{Dis}AssociateEntireAccount=true`.
 */
export type ConsumerTarget =
  | { kind: 'namespace'; consumerArn: string }
  | { kind: 'region'; region: string }
  | { kind: 'account' };
