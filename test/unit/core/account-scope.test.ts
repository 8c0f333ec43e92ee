import { describe, expect, it } from 'vitest';
import { accountRefusal, mayActIn } from '../../../src/core/account-scope.js';
import type { DisassociationTarget } from '../../../src/core/target.js';

const OWN = '111122223333';
const SPOKE = '222233334444';
const target = (
  accountId: string,
  kind: 'namespace' | 'region' = 'namespace',
): DisassociationTarget => ({
  dataShareArn: 'arn:aws:redshift:us-east-1:444455556666:datashare:p/s',
  consumer:
    kind === 'namespace'
      ? { kind, arn: `arn:aws:redshift:us-east-1:${accountId}:namespace:n` }
      : { kind, region: 'us-east-1' },
  accountId,
});

describe('account scope', () => {
  it('single-account mode acts in its own account only', () => {
    const scope = { ownAccountId: OWN };
    expect(mayActIn(scope, OWN)).toBe(true);
    expect(mayActIn(scope, SPOKE)).toBe(false);
  });

  it('hub mode acts in its own account and the listed ones; "*" in any', () => {
    expect(mayActIn({ ownAccountId: OWN, consumerAccounts: new Set([SPOKE]) }, SPOKE)).toBe(true);
    expect(
      mayActIn({ ownAccountId: OWN, consumerAccounts: new Set([SPOKE]) }, '999999999999'),
    ).toBe(false);
    expect(mayActIn({ ownAccountId: OWN, consumerAccounts: '*' }, '999999999999')).toBe(true);
  });

  it('refuses a target outside the scope with ConsumerAccountNotAllowed, naming the field, the account and what is allowed', () => {
    const refusal = accountRefusal(target(SPOKE), { ownAccountId: OWN }, 'evt-1');
    expect(refusal).toMatchObject({ code: 'ConsumerAccountNotAllowed', eventId: 'evt-1' });
    expect(refusal?.message).toContain('consumerArn');
    expect(refusal?.message).toContain(`account ${SPOKE}`);
    expect(refusal?.message).toContain('single-account mode');
    const listed = accountRefusal(
      target('999999999999', 'region'),
      { ownAccountId: OWN, consumerAccounts: new Set([SPOKE]) },
      'evt-2',
    );
    expect(listed?.message).toContain('consumerAccountId');
    expect(listed?.message).toContain(SPOKE);
  });

  it('lets through a target inside the scope', () => {
    expect(accountRefusal(target(OWN), { ownAccountId: OWN }, 'evt-1')).toBeUndefined();
  });
});
