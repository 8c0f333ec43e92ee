import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import { expecting, integer, parseOrThrow, record, strictObject } from '../validation.js';

const ACCOUNT_ID = /^\d{12}$/;
// IAM role names: 1–64 characters of [\w+=,.@-].
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
// sts:ExternalId: 2–1224 characters of [\w+=,.@:/-].
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
// A trusted principal: an IAM role ARN, an account root ARN, a bare account id, or "*".
const PRINCIPAL = /^(\*|\d{12}|arn:aws[\w-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+))$/;

const roleSeedSchema = strictObject({
  /** The role name; its ARN is `arn:aws:iam::<account>:role/<name>`. */
  name: v.pipe(v.string(), v.regex(ROLE_NAME, expecting('1–64 characters of [\\w+=,.@-]'))),
  /** When set, `AssumeRole` must send this `ExternalId` (the trust policy's `sts:ExternalId`). */
  externalId: v.optional(
    v.pipe(v.string(), v.regex(EXTERNAL_ID, expecting('2–1224 characters of [\\w+=,.@:/-]'))),
  ),
  /**
   * Principals the trust policy allows to assume the role: role ARNs, `arn:aws:iam::<id>:root`,
   * bare account ids or `*`. Default: the hub account (any of its principals).
   */
  trusts: v.optional(
    v.array(
      v.pipe(
        v.string(),
        v.regex(PRINCIPAL, expecting('a role ARN, a root ARN, an account id or *')),
      ),
    ),
  ),
  /** The role's `MaxSessionDuration` (3600–43200 s, default 3600). */
  maxSessionDurationSeconds: v.optional(integer(3600, 43200), 3600),
});

const accountSeedSchema = strictObject({
  description: v.optional(v.string()),
  roles: v.optional(v.array(roleSeedSchema), []),
});

/**
 * The STS emulator's seed: the accounts it knows and the roles each one has. A JSON file in this
 * shape is `examples/accounts.json`.
 */
export const accountsSeedSchema = strictObject({
  $schema: v.optional(v.string()),
  description: v.optional(v.string()),
  accounts: v.optional(
    record(
      v.pipe(v.string(), v.regex(ACCOUNT_ID, expecting('a 12-digit account id', 'key'))),
      accountSeedSchema,
    ),
    {},
  ),
});

/** A seed as written by hand (defaults may be left out). */
export type AccountsSeed = v.InferInput<typeof accountsSeedSchema>;
/** A validated seed, defaults applied. */
export type ParsedAccountsSeed = v.InferOutput<typeof accountsSeedSchema>;
export type RoleSeed = v.InferOutput<typeof roleSeedSchema>;

/**
 * Validates an accounts seed.
 *
 * @throws {TypeError} naming every offending path, e.g. `accounts.222233334444.roles[0].name`.
 */
export const parseAccountsSeed = (input: unknown, source = 'seed'): ParsedAccountsSeed => {
  const seed = parseOrThrow(accountsSeedSchema, input, `STS emulator ${source}`);
  for (const [accountId, account] of Object.entries(seed.accounts)) {
    const names = account.roles.map((role) => role.name.toLowerCase());
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate !== undefined) {
      // IAM role names are unique per account, case-insensitively.
      throw new TypeError(
        `Invalid STS emulator ${source}: accounts.${accountId} has the role '${duplicate}' twice`,
      );
    }
  }
  return seed;
};

/** Reads and validates an accounts seed JSON file. */
export const loadAccountsSeed = async (path: string): Promise<ParsedAccountsSeed> => {
  const text = await readFile(path, 'utf8');
  return parseAccountsSeed(JSON.parse(text), `seed file '${path}'`);
};
