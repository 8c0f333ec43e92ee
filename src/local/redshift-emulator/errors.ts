/**
 * An error the emulated Redshift API answers with, in the awsQuery error shape. `Type` is
 * `Sender` for 4xx and `Receiver` for 5xx, as AWS sends it.
 */
export class RedshiftApiError extends Error {
  override readonly name = 'RedshiftApiError';

  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }

  get type(): 'Sender' | 'Receiver' {
    return this.httpStatus >= 500 ? 'Receiver' : 'Sender';
  }
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
