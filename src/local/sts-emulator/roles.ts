import { createHash } from 'node:crypto';
import type { CallerIdentity } from '../caller-identity.js';
import type { ParsedAccountsSeed, RoleSeed } from './accounts-seed.js';

/** A role of the seed, with what STS derives from it. */
export interface RoleState extends RoleSeed {
  accountId: string;
  /** `arn:aws:iam::<account>:role/<name>`. */
  arn: string;
  /** `AROA…`: the unique id STS puts before `:<session>` in `AssumedRoleId`. */
  roleId: string;
  trusts: string[];
}

/** `arn:aws:iam::<account>:role/<name>` (a path is allowed before the name). */
export const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

const roleIdOf = (arn: string): string =>
  `AROA${createHash('sha256').update(arn).digest('hex').toUpperCase().slice(0, 17)}`;

/** The roles of every seeded account, by ARN. */
export class RoleDirectory {
  private readonly roles = new Map<string, RoleState>();

  constructor(readonly hubAccountId: string) {}

  /** Replaces every role with the seed's. */
  load(seed: ParsedAccountsSeed): void {
    this.roles.clear();
    for (const [accountId, account] of Object.entries(seed.accounts)) {
      for (const role of account.roles) {
        const arn = `arn:aws:iam::${accountId}:role/${role.name}`;
        this.roles.set(arn, {
          ...role,
          accountId,
          arn,
          roleId: roleIdOf(arn),
          trusts: role.trusts ?? [this.hubAccountId],
        });
      }
    }
  }

  /**
   * The role an ARN names. A path (`role/team/name`) is ignored, as `AssumeRole` does: a role's
   * name is unique in its account.
   */
  find(roleArn: string): RoleState | undefined {
    const match = ROLE_ARN.exec(roleArn);
    if (!match) return undefined;
    const [, accountId = '', name = ''] = match;
    return this.roles.get(`arn:aws:iam::${accountId}:role/${name}`);
  }

  list(): RoleState[] {
    return [...this.roles.values()].map((role) => structuredClone(role));
  }
}

/**
 * Whether the role's trust policy lets `caller` assume it: one of its principals is `*`, the
 * caller's account (as an id or `arn:aws:iam::<id>:root`), or the caller's role ARN.
 */
export const trusts = (role: RoleState, caller: CallerIdentity): boolean =>
  role.trusts.some(
    (principal) =>
      principal === '*' ||
      principal === caller.accountId ||
      principal === caller.roleArn ||
      /^arn:aws[\w-]*:iam::(\d{12}):root$/.exec(principal)?.[1] === caller.accountId,
  );
