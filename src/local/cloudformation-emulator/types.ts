import { EmulatedApiError } from '../api-error.js';
/** The namespace of every CloudFormation awsQuery response (API version 2010-05-15). */
export const CLOUDFORMATION_XML_NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/** A stack as the emulator serves it: its name, status and outputs. */
export interface EmulatedStack {
  stackName: string;
  /** Default `CREATE_COMPLETE`. */
  stackStatus?: string;
  /** Output key → value, as `infra/outputs.yml` declares them. */
  outputs: Record<string, string>;
  /** Default: when the stack was put. */
  creationTime?: Date;
}

/** An error answered in awsQuery's `<ErrorResponse>` (CloudFormation says `ValidationError`). */
export class CloudFormationApiError extends EmulatedApiError {
  override readonly name = 'CloudFormationApiError';
}

/** Injected faults: the next `failNextCalls` calls are answered with `code` (default throttling). */
export interface CloudFormationFaults {
  failNextCalls: number;
  /** `Throttling` (400) or `ServiceUnavailable` (503). */
  code: 'Throttling' | 'ServiceUnavailable';
}
