import { type FieldProblem, type Rejection, RejectionCode, refusal } from './parse.js';
import type { DisassociationTarget } from './target.js';

/**
 * The accounts the worker may act in. Single-account mode (no consumer role configured): its own
 * account only. Hub mode: its own account (with its own role) and the listed consumer accounts
 * (with the consumer role), or any account whose role trusts it (`'*'`, given explicitly).
 */
export interface AccountScope {
  ownAccountId: string;
  /** Undefined in single-account mode. */
  consumerAccounts?: ReadonlySet<string> | '*';
}

/** Whether the worker may act in `accountId`. */
export const mayActIn = (scope: AccountScope, accountId: string): boolean =>
  accountId === scope.ownAccountId ||
  scope.consumerAccounts === '*' ||
  (scope.consumerAccounts?.has(accountId) ?? false);

const allowedAccounts = (scope: AccountScope): string =>
  scope.consumerAccounts === undefined
    ? `its own account ${scope.ownAccountId} (single-account mode: CONSUMER_ROLE_NAME is not set)`
    : scope.consumerAccounts === '*'
      ? 'any account'
      : `its own account ${scope.ownAccountId} or one of CONSUMER_ACCOUNTS (${[...scope.consumerAccounts].join(', ')})`;

/**
 * Refuses a target outside the worker's accounts: REJECTED with `ConsumerAccountNotAllowed`,
 * before any STS or Redshift call. Decided once, where requests are prepared.
 */
export const accountRefusal = (
  target: DisassociationTarget,
  scope: AccountScope,
  eventId: string,
): Rejection | undefined => {
  if (mayActIn(scope, target.accountId)) return undefined;
  const problem: FieldProblem = {
    field: target.consumer.kind === 'namespace' ? 'consumerArn' : 'consumerAccountId',
    given:
      target.consumer.kind === 'namespace'
        ? `"${target.consumer.arn}" (account ${target.accountId})`
        : `"${target.accountId}"`,
    expected: `a consumer in ${allowedAccounts(scope)}`,
  };
  return {
    ...refusal(RejectionCode.ConsumerAccountNotAllowed, [problem], eventId),
    consumerAccountId: target.accountId,
  };
};
