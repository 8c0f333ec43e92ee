/**
 * ARN and region shapes the worker accepts. Kept as regular expressions in one place so the
 * request schema, the emulators and the CLI agree on them.
 *
 * Shapes from the Redshift API reference: a datashare is
 * `arn:<partition>:redshift:<region>:<producer-account>:datashare:<producer-namespace>/<name>`; a
 * provisioned consumer namespace is `arn:<partition>:redshift:<region>:<account>:namespace:<id>`;
 * the Redshift Serverless form (`redshift-serverless`, `namespace/<id>`) is accepted as well
 * because AWS does not document which of the two `ConsumerArn` takes.
 */

const PARTITION = '(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]|aws-eusc)';
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';

export const REGION_PATTERN = new RegExp(`^${REGION}$`);

export const DATASHARE_ARN_PATTERN = new RegExp(
  `^arn:${PARTITION}:redshift:(${REGION}):(\\d{12}):datashare:([A-Za-z0-9-]{1,64})/([A-Za-z0-9_.$-]{1,127})$`,
);

/**
 * A prefix of datashare ARNs that stops at a boundary: a producer account's datashares in a region
 * (`…:datashare:`), one producer namespace's (`…:datashare:<namespace>/`), or names beginning with
 * a prefix (`…:datashare:<namespace>/<name prefix>`), up to a whole ARN.
 */
export const DATASHARE_ARN_PREFIX_PATTERN = new RegExp(
  `^arn:${PARTITION}:redshift:${REGION}:\\d{12}:datashare:(?:[A-Za-z0-9-]{1,64}/[A-Za-z0-9_.$-]{0,127})?$`,
);

export const NAMESPACE_ARN_PATTERN = new RegExp(
  `^arn:${PARTITION}:(?:redshift:(${REGION}):(\\d{12}):namespace:|redshift-serverless:(${REGION}):(\\d{12}):namespace/)([A-Za-z0-9-]{1,64})$`,
);

export const ACCOUNT_ID_PATTERN = /^\d{12}$/;

/** The account a consumer namespace ARN names, or `undefined` when the ARN is not one. */
export const accountOfNamespaceArn = (arn: string): string | undefined => {
  const match = NAMESPACE_ARN_PATTERN.exec(arn);
  return match ? (match[3] ?? match[5]) : undefined;
};

/** The account of a Lambda function ARN (`context.invokedFunctionArn`): the worker's own account. */
export const accountOfFunctionArn = (arn: string): string =>
  /^arn:[a-z-]+:lambda:[a-z0-9-]+:(\d{12}):function:/.exec(arn)?.[1] ?? '';

/** The partition an ARN names (`aws`, `aws-cn`, ...), or `undefined` when it is not an ARN. */
export const partitionOfArn = (arn: string): string | undefined => /^arn:([a-z-]+):/.exec(arn)?.[1];

/** The region a consumer namespace ARN names, or `undefined` when the ARN is not one. */
export const regionOfNamespaceArn = (arn: string): string | undefined => {
  const match = NAMESPACE_ARN_PATTERN.exec(arn);
  return match ? (match[2] ?? match[4]) : undefined;
};
