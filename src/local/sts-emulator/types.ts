/** The operations this emulator speaks; any other `Action` is answered with `InvalidAction`. */
export const STS_OPERATIONS = ['AssumeRole', 'GetCallerIdentity'] as const;
export type StsOperation = (typeof STS_OPERATIONS)[number];

/** The STS API version of the awsQuery protocol (`Version=2011-06-15`). */
export const STS_API_VERSION = '2011-06-15';

/** The namespace of every STS awsQuery response. */
export const STS_XML_NAMESPACE = `https://sts.amazonaws.com/doc/${STS_API_VERSION}/`;
