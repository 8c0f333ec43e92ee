import { Outcome } from '../../core/outcome.js';
import type { RecordedCall } from '../redshift-emulator/index.js';
import type { RecordedStsCall } from '../sts-emulator/index.js';

/**
 * The hub-and-spoke set-up `npm start` runs by default, matching `examples/accounts.json`: the
 * worker's own account (the hub), a spoke with the consumer role and a spoke without it.
 */
export const DEMO_HUB = {
  accountId: '111122223333',
  workerRoleArn: 'arn:aws:iam::111122223333:role/datashare-revoker',
  consumerRoleName: 'datashare-revoker-spoke',
  consumerRoleExternalId: 'datashare-revoker',
  consumerAccounts: ['222233334444', '333344445555'],
} as const;

/** The worker's variables that turn hub mode on (see README, "Hub and spoke"). */
export const hubWorkerEnv = (): Record<string, string> => ({
  CONSUMER_ROLE_NAME: DEMO_HUB.consumerRoleName,
  CONSUMER_ACCOUNTS: DEMO_HUB.consumerAccounts.join(','),
  CONSUMER_ROLE_EXTERNAL_ID: DEMO_HUB.consumerRoleExternalId,
  WORKER_ROLE_ARN: DEMO_HUB.workerRoleArn,
});

/** How the worker acts in an account: with its own role, a spoke's role, or not at all. */
export const AccountMode = {
  OwnRole: 'own role',
  SpokeRole: 'spoke role',
  NotAllowed: 'not allowed',
} as const;
export type AccountMode = (typeof AccountMode)[keyof typeof AccountMode];

/** Where the worker of a run may act: its own account, plus the spokes in hub mode. */
export interface AccountScopeFacts {
  ownAccountId: string;
  /** Empty in single-account mode. */
  consumerAccounts: readonly string[];
}

export const accountModeOf = (scope: AccountScopeFacts, accountId: string): AccountMode =>
  accountId === scope.ownAccountId
    ? AccountMode.OwnRole
    : scope.consumerAccounts.includes(accountId)
      ? AccountMode.SpokeRole
      : AccountMode.NotAllowed;

/** One consumer account of the run, as the summary's per-account table shows it. */
export interface AccountRow {
  /** null: REJECTED bodies that name no account the worker could read. */
  accountId: string | null;
  mode: AccountMode | null;
  /** Audit events (one per decision) whose target is in this account. */
  decisions: number;
  outcomes: Record<Outcome, number>;
  /** `AssumeRole` calls for a role in this account, from the STS emulator's call log. */
  assumeRoleCalls: number;
  /** Redshift calls made in this account (the emulator's `callerAccountId`). */
  redshiftCalls: number;
}

/** An audited decision: its outcome and the consumer account it acted in, if any. */
export interface AccountDecision {
  accountId: string | null;
  outcome: Outcome;
}

const ACCOUNT_OF_ROLE_ARN = /^arn:[a-z-]+:iam::(\d{12}):role\//;

const byAccount = (a: AccountRow, b: AccountRow): number =>
  a.accountId === null ? 1 : b.accountId === null ? -1 : a.accountId.localeCompare(b.accountId);

/**
 * The per-account table: every account that had a decision, an `AssumeRole` or a Redshift call,
 * sorted by account id, with a last row (`accountId: null`) for bodies that named none.
 */
export const accountRowsOf = (
  scope: AccountScopeFacts,
  decisions: readonly AccountDecision[],
  stsCalls: readonly Pick<RecordedStsCall, 'operation' | 'roleArn'>[],
  redshiftCalls: readonly Pick<RecordedCall, 'callerAccountId'>[],
): AccountRow[] => {
  const rows = new Map<string | null, AccountRow>();
  const rowOf = (accountId: string | null): AccountRow => {
    let row = rows.get(accountId);
    if (!row) {
      row = {
        accountId,
        mode: accountId === null ? null : accountModeOf(scope, accountId),
        decisions: 0,
        outcomes: Object.fromEntries(Object.values(Outcome).map((o) => [o, 0])) as Record<
          Outcome,
          number
        >,
        assumeRoleCalls: 0,
        redshiftCalls: 0,
      };
      rows.set(accountId, row);
    }
    return row;
  };
  for (const { accountId, outcome } of decisions) {
    const row = rowOf(accountId);
    row.decisions += 1;
    row.outcomes[outcome] += 1;
  }
  for (const call of stsCalls) {
    const accountId = call.roleArn?.match(ACCOUNT_OF_ROLE_ARN)?.[1];
    if (call.operation === 'AssumeRole' && accountId) rowOf(accountId).assumeRoleCalls += 1;
  }
  // A call refused before it was authenticated acted in no account: it is not counted here.
  for (const call of redshiftCalls) {
    if (call.callerAccountId) rowOf(call.callerAccountId).redshiftCalls += 1;
  }
  return [...rows.values()].sort(byAccount);
};
