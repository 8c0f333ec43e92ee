// ARN shapes from the Redshift API reference; the serverless namespace form is accepted too
// because a datashare can be shared with a Redshift Serverless namespace.
const PARTITION = 'aws(?:-[a-z]+)*';
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d+';

const DATASHARE_ARN = new RegExp(
  `^arn:(${PARTITION}):redshift:(${REGION}):(\\d{12}):datashare:([A-Za-z0-9-]+)/([A-Za-z0-9_$.-]+)$`,
);
const PROVISIONED_NAMESPACE_ARN = new RegExp(
  `^arn:${PARTITION}:redshift:(${REGION}):(\\d{12}):namespace:[A-Za-z0-9-]+$`,
);
const SERVERLESS_NAMESPACE_ARN = new RegExp(
  `^arn:${PARTITION}:redshift-serverless:(${REGION}):(\\d{12}):namespace/[A-Za-z0-9-]+$`,
);

export const ACCOUNT_ID = /^\d{12}$/;
export const REGION_NAME = new RegExp(`^${REGION}$`);

/** The parts of `arn:<partition>:redshift:<region>:<producer-account>:datashare:<namespace>/<name>`. */
export interface DataShareArnParts {
  partition: string;
  region: string;
  producerAccount: string;
  producerNamespace: string;
  name: string;
}

export const parseDataShareArn = (arn: string): DataShareArnParts | undefined => {
  const match = DATASHARE_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition = '', region = '', producerAccount = '', producerNamespace = '', name = ''] =
    match;
  return { partition, region, producerAccount, producerNamespace, name };
};

export const isDataShareArn = (arn: string): boolean => DATASHARE_ARN.test(arn);

/** The owner and region of a namespace ARN (provisioned or serverless), or undefined if not one. */
export const parseNamespaceArn = (arn: string): { account: string; region: string } | undefined => {
  const match = PROVISIONED_NAMESPACE_ARN.exec(arn) ?? SERVERLESS_NAMESPACE_ARN.exec(arn);
  if (!match) return undefined;
  const [, region = '', account = ''] = match;
  return { account, region };
};

/** The account that owns a namespace ARN, or undefined if `arn` is not a namespace ARN. */
export const namespaceAccount = (arn: string): string | undefined =>
  parseNamespaceArn(arn)?.account;

export const isNamespaceArn = (arn: string): boolean => namespaceAccount(arn) !== undefined;

/** The producer namespace ARN implied by a datashare ARN (what the API reports as `ProducerArn`). */
export const producerArnOf = (dataShareArn: string): string => {
  const parts = parseDataShareArn(dataShareArn);
  if (!parts) throw new TypeError(`not a datashare ARN: '${dataShareArn}'`);
  return `arn:${parts.partition}:redshift:${parts.region}:${parts.producerAccount}:namespace:${parts.producerNamespace}`;
};
