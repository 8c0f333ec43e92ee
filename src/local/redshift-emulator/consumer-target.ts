import { isNamespaceArn } from './arn.js';
import { invalidNamespace, RedshiftApiError } from './errors.js';
import type { QueryParams } from './query-params.js';
import type { ConsumerTarget } from './types.js';

/**
 * Reads the consumer a Disassociate/Associate call targets. Exactly one of `ConsumerArn`,
 * `ConsumerRegion` and `<verb>EntireAccount=true` must be given: AWS does not document that they
 * exclude each other, but Terraform's provider enforces it and so does our worker.
 *
 * @throws {RedshiftApiError} `InvalidParameterCombination`, or `InvalidNamespaceFault` for a
 * `ConsumerArn` that is not a namespace ARN.
 */
export const readConsumerTarget = (
  params: QueryParams,
  entireAccountParameter: 'DisassociateEntireAccount' | 'AssociateEntireAccount',
): ConsumerTarget => {
  const consumerArn = params.optionalString('ConsumerArn');
  const region = params.optionalString('ConsumerRegion');
  const entireAccount = params.optionalBoolean(entireAccountParameter) === true;
  const given = [consumerArn !== undefined, region !== undefined, entireAccount].filter(Boolean);
  if (given.length !== 1) {
    throw new RedshiftApiError(
      'InvalidParameterCombination',
      `Specify exactly one of ConsumerArn, ConsumerRegion or ${entireAccountParameter}=true.`,
    );
  }
  if (consumerArn !== undefined) {
    if (!isNamespaceArn(consumerArn)) throw invalidNamespace(consumerArn);
    return { kind: 'namespace', consumerArn };
  }
  if (region !== undefined) return { kind: 'region', region };
  return { kind: 'account' };
};

/**
 * The key a call is accounted under: the consumer ARN, `region:<name>` or `account:<id>`.
 * Read leniently (no validation) because faults and accounting happen before validation.
 */
export const consumerKeyOf = (
  params: QueryParams,
  consumerAccountId: string,
): string | undefined => {
  const consumerArn = params.optionalString('ConsumerArn');
  if (consumerArn !== undefined) return consumerArn;
  const region = params.optionalString('ConsumerRegion');
  if (region !== undefined) return `region:${region}`;
  const entire =
    params.optionalString('DisassociateEntireAccount') ??
    params.optionalString('AssociateEntireAccount');
  return entire === 'true' ? `account:${consumerAccountId}` : undefined;
};

/** The consumer key of a parsed target (same format as {@link consumerKeyOf}). */
export const consumerKeyOfTarget = (target: ConsumerTarget, consumerAccountId: string): string => {
  switch (target.kind) {
    case 'namespace':
      return target.consumerArn;
    case 'region':
      return `region:${target.region}`;
    case 'account':
      return `account:${consumerAccountId}`;
  }
};

/** `<dataShareArn>|<consumerKey>`: the unit "calls per target" is counted in. */
export const targetKeyOf = (dataShareArn: string, consumerKey: string): string =>
  `${dataShareArn}|${consumerKey}`;

/**
 * The target a consumer key names (the inverse of {@link consumerKeyOfTarget}).
 *
 * @throws {TypeError} for a key that is none of the three forms.
 */
export const targetFromConsumerKey = (key: string): ConsumerTarget => {
  if (key.startsWith('region:')) return { kind: 'region', region: key.slice('region:'.length) };
  if (key.startsWith('account:')) return { kind: 'account' };
  if (isNamespaceArn(key)) return { kind: 'namespace', consumerArn: key };
  throw new TypeError(
    `consumer must be a namespace ARN, 'region:<region>' or 'account:<id>', '${key}' given`,
  );
};
