import { classifyAwsError, type SdkErrorShape } from '../core/classify.js';
import type { AwsFailureDetails } from '../core/errors.js';

/** Reads the classification fields off whatever an SDK call threw. */
export const failureDetailsOf = (error: unknown): AwsFailureDetails =>
  classifyAwsError(
    typeof error === 'object' && error !== null
      ? (error as SdkErrorShape)
      : { name: String(error) },
  );

export const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
