/**
 * The queue URL for a queue ARN, as SQS forms it. Lambda hands the handler the source queue's ARN
 * (`eventSourceARN`), while `ChangeMessageVisibility` takes a URL.
 *
 * @throws {Error} when `arn` is not an SQS queue ARN.
 */
export const queueUrlFromArn = (arn: string): string => {
  const match = /^arn:(aws[a-z-]*):sqs:([a-z0-9-]+):(\d{12}):(.+)$/.exec(arn);
  if (!match) throw new Error(`Not an SQS queue ARN: ${JSON.stringify(arn)}`);
  const [, partition, region, account, name] = match;
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
};
