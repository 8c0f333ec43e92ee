import { EmulatedApiError } from '../api-error.js';
/**
 * An error the emulated Redshift API answers with, in the awsQuery error shape. `Type` is
 * `Sender` for 4xx and `Receiver` for 5xx, as AWS sends it.
 */
export class RedshiftApiError extends EmulatedApiError {
  override readonly name = 'RedshiftApiError';
}

// Message texts follow what AWS returns for "already gone"; the worker matches on them.
export const unknownDataShare = (verb: 'associate' | 'disassociate', arn: string) =>
  new RedshiftApiError(
    'InvalidDataShareFault',
    verb === 'disassociate'
      ? `Can't disassociate consumer from datashare ${arn} because the ARN doesn't exist.`
      : `Can't associate consumer with datashare ${arn} because the ARN doesn't exist.`,
  );

export const notAssociated = (arn: string) =>
  new RedshiftApiError(
    'InvalidDataShareFault',
    `The datashare ${arn} either doesn't exist or isn't associated with this data consumer.`,
  );

export const invalidNamespace = (arn: string) =>
  new RedshiftApiError('InvalidNamespaceFault', `The namespace ARN ${arn} isn't valid.`);

export const missingParameter = (name: string) =>
  new RedshiftApiError('MissingParameter', `The request must contain the parameter ${name}.`);

export const invalidParameterValue = (name: string, value: string, expected: string) =>
  new RedshiftApiError(
    'InvalidParameterValue',
    `Invalid value '${value}' for parameter ${name}: ${expected}.`,
  );

/**
 * How the emulator answers a Disassociate/Associate of a namespace that the calling account does
 * not own. AWS does not document it (unconfirmed):
 * - `notAssociated` (default): 400 `InvalidDataShareFault` "...isn't associated with this data
 *   consumer" — the association is not the caller's, so from its side it does not exist;
 * - `accessDenied`: 403 `AccessDenied`, as an IAM-style refusal would read;
 * - `invalidNamespace`: 400 `InvalidNamespaceFault`, as if the namespace were unknown.
 */
export const CROSS_ACCOUNT_ANSWERS = ['notAssociated', 'accessDenied', 'invalidNamespace'] as const;
export type CrossAccountAnswer = (typeof CROSS_ACCOUNT_ANSWERS)[number];

export const crossAccountError = (
  answer: CrossAccountAnswer,
  {
    verb,
    dataShareArn,
    consumerArn,
    callerArn,
  }: {
    verb: 'disassociate' | 'associate';
    dataShareArn: string;
    consumerArn: string;
    callerArn: string;
  },
): RedshiftApiError => {
  switch (answer) {
    case 'notAssociated':
      return notAssociated(dataShareArn);
    case 'accessDenied':
      return new RedshiftApiError(
        'AccessDenied',
        `User: ${callerArn} is not authorized to perform: redshift:${verb === 'disassociate' ? 'Disassociate' : 'Associate'}DataShareConsumer on resource: ${dataShareArn} because the consumer ${consumerArn} belongs to another account`,
        403,
      );
    case 'invalidNamespace':
      return invalidNamespace(consumerArn);
  }
};

/** A key the caller directory refused (`ExpiredToken`, `InvalidClientTokenId`): HTTP 403. */
export const refusedKey = (code: string, message: string) =>
  new RedshiftApiError(code, message, 403);
