import * as v from 'valibot';
import {
  atLeast,
  integer,
  partialStrictObject,
  problemsOf,
  safeParse,
  strictObject,
} from '../validation.js';
import { LAMBDA_OPERATIONS } from './types.js';

/**
 * What an injected fault does to a call:
 * - `throttle`: 429 `TooManyRequestsException` (Lambda's control plane rate limit);
 * - `error`: 500 `ServiceException`;
 * - `reset`: the connection is reset without an answer (`ECONNRESET`);
 * - `lostAnswer`: the call takes effect (an update is applied), then the connection is reset —
 *   the caller cannot tell it from `reset`.
 */
export const LAMBDA_FAULT_KINDS = ['throttle', 'error', 'reset', 'lostAnswer'] as const;
export type LambdaFaultKind = (typeof LAMBDA_FAULT_KINDS)[number];

const targetedFaultSchema = strictObject({
  kind: v.picklist(LAMBDA_FAULT_KINDS),
  operation: v.optional(v.picklist(LAMBDA_OPERATIONS)),
  count: v.optional(integer(1), 1),
});
export type LambdaTargetedFault = v.InferOutput<typeof targetedFaultSchema>;

const faultsShape = {
  /** Deterministic faults, consumed in order; replaced as a whole by `setFaults`. */
  failNext: v.array(targetedFaultSchema),
  /** Added to every answered call. */
  latencyMs: atLeast(0),
  /**
   * How long a mapping stays `Disabling`/`Enabling` at least, besides waiting for the local
   * poller (Lambda takes seconds; 0 by default).
   */
  transitionMs: atLeast(0),
};
export const lambdaFaultsSchema = strictObject(faultsShape);
export const lambdaFaultsPatchSchema = partialStrictObject(faultsShape);
export type LambdaFaults = v.InferOutput<typeof lambdaFaultsSchema>;
/** What `setFaults` and `POST /__emulator/faults` take: any subset. */
export type LambdaFaultsPatch = v.InferInput<typeof lambdaFaultsPatchSchema>;

export const noLambdaFaults = (): LambdaFaults => ({ failNext: [], latencyMs: 0, transitionMs: 0 });

/**
 * Parses a patch onto the current faults.
 *
 * @throws {TypeError} naming the field, the value given and what is expected.
 */
export const applyLambdaFaults = (current: LambdaFaults, patch: unknown): LambdaFaults => {
  const parsed = safeParse(lambdaFaultsPatchSchema, patch ?? {});
  if (!parsed.success) {
    const [problem] = problemsOf(parsed.issues);
    throw new TypeError(
      `invalid Lambda emulator faults at ${problem?.path.join('.') || '(root)'}: ${problem?.message}; given ${JSON.stringify(patch)}`,
    );
  }
  return { ...current, ...parsed.output };
};

/** Takes the next `failNext` fault matching the operation, consuming one of its count. */
export const takeFault = (
  faults: LambdaFaults,
  operation: string,
): LambdaTargetedFault | undefined => {
  const index = faults.failNext.findIndex(
    (f) => f.operation === undefined || f.operation === operation,
  );
  const fault = faults.failNext[index];
  if (!fault) return undefined;
  if (fault.count <= 1) faults.failNext.splice(index, 1);
  else faults.failNext[index] = { ...fault, count: fault.count - 1 };
  return fault;
};
