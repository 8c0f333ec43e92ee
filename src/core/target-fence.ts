import { DATASHARE_ARN_PREFIX_PATTERN } from './arn.js';
import { type FieldProblem, type Rejection, RejectionCode, refusal } from './parse.js';
import type { DisassociationTarget } from './target.js';

/**
 * What kinds of target and which datashares the worker may act on at all, whatever its accounts
 * (`ALLOW_BROAD_TARGETS`, `ALLOWED_DATASHARES`). One message with `disassociateEntireAccount`
 * cuts a whole account: broad targets are opt-in.
 */
export interface TargetFence {
  allowBroadTargets: boolean;
  /** Datashare ARN prefixes; undefined: any datashare. */
  allowedDataShares?: readonly string[];
}

/** What `ALLOWED_DATASHARES` takes for each prefix, in the words its error uses. */
export const DATASHARE_PREFIX_EXPECTED =
  'arn:<partition>:redshift:<region>:<producer account>:datashare: optionally followed by <producer namespace>/ and a name prefix';

/** Whether `prefix` is a datashare ARN prefix that stops at a boundary (see `DATASHARE_ARN_PREFIX_PATTERN`). */
export const isDataSharePrefix = (prefix: string): boolean =>
  DATASHARE_ARN_PREFIX_PATTERN.test(prefix);

/**
 * Refuses a target the fence excludes, before any STS or Redshift call: a region- or account-wide
 * target without `ALLOW_BROAD_TARGETS` is REJECTED `BroadTargetNotAllowed`; a datashare outside
 * `ALLOWED_DATASHARES` is REJECTED `DatashareNotAllowed` (the datashare is checked first: it is
 * the narrower statement of intent).
 *
 * @example
 * fenceRefusal(target, { allowBroadTargets: false }, 'pol-7/0001'); // undefined for a consumerArn
 */
export const fenceRefusal = (
  target: DisassociationTarget,
  fence: TargetFence,
  eventId: string,
): Rejection | undefined => {
  const allowed = fence.allowedDataShares;
  if (allowed && !allowed.some((prefix) => target.dataShareArn.startsWith(prefix))) {
    const problem: FieldProblem = {
      field: 'dataShareArn',
      given: `"${target.dataShareArn}"`,
      expected: `a datashare starting with one of ALLOWED_DATASHARES (${allowed.join(', ')})`,
    };
    return {
      ...refusal(RejectionCode.DatashareNotAllowed, [problem], eventId),
      consumerAccountId: target.accountId,
    };
  }
  if (!fence.allowBroadTargets && target.consumer.kind !== 'namespace') {
    const problem: FieldProblem =
      target.consumer.kind === 'region'
        ? {
            field: 'consumerRegion',
            given: `"${target.consumer.region}"`,
            expected:
              'a consumerArn: region-wide targets are refused unless ALLOW_BROAD_TARGETS is true',
          }
        : {
            field: 'disassociateEntireAccount',
            given: 'true',
            expected:
              'a consumerArn: account-wide targets are refused unless ALLOW_BROAD_TARGETS is true',
          };
    return {
      ...refusal(RejectionCode.BroadTargetNotAllowed, [problem], eventId),
      consumerAccountId: target.accountId,
    };
  }
  return undefined;
};
