import { EmulatedApiError } from '../api-error.js';
/**
 * An error the emulated STS API answers with, in the awsQuery error shape. `Type` is `Sender`
 * for 4xx and `Receiver` for 5xx, as AWS sends it.
 */
export class StsApiError extends EmulatedApiError {
  override readonly name = 'StsApiError';
}

/**
 * AWS's one answer for an unknown role, an untrusted caller and a wrong or missing ExternalId
 * alike: STS does not say which, so a caller cannot probe for roles.
 */
export const assumeRoleDenied = (callerArn: string, roleArn: string) =>
  new StsApiError(
    'AccessDenied',
    `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    403,
  );

/** A parameter that breaks its constraint, in the words of AWS's request validation. */
export const validationError = (message: string) =>
  new StsApiError('ValidationError', `1 validation error detected: ${message}`);
