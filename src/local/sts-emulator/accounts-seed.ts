import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const ACCOUNT_ID = /^\d{12}$/;
// IAM role names: 1–64 characters of [\w+=,.@-].
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
// sts:ExternalId: 2–1224 characters of [\w+=,.@:/-].
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
// A trusted principal: an IAM role ARN, an account root ARN, a bare account id, or "*".
const PRINCIPAL = /^(\*|\d{12}|arn:aws[\w-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+))$/;

const roleSeedSchema = z.strictObject({
  /** The role name; its ARN is `arn:aws:iam::<account>:role/<name>`. */
  name: z.string().regex(ROLE_NAME, 'must be 1–64 characters of [\\w+=,.@-]'),
  /** When set, `AssumeRole` must send this `ExternalId` (the trust policy's `sts:ExternalId`). */
  externalId: z
    .string()
    .regex(EXTERNAL_ID, 'must be 2–1224 characters of [\\w+=,.@:/-]')
    .optional(),
  /**
   * Principals the trust policy allows to assume the role: role ARNs, `arn:aws:iam::<id>:root`,
   * bare account ids or `*`. Default: the hub account (any of its principals).
   */
  trusts: z
    .array(z.string().regex(PRINCIPAL, 'must be a role ARN, a root ARN, an account id or *'))
    .optional(),
  /** The role's `MaxSessionDuration` (3600–43200 s, default 3600). */
  maxSessionDurationSeconds: z.int().min(3600).max(43200).default(3600),
});

const accountSeedSchema = z.strictObject({
  description: z.string().optional(),
  roles: z.array(roleSeedSchema).default([]),
});

/**
 * The STS emulator's seed: the accounts it knows and the roles each one has. A JSON file in this
 * shape is `examples/accounts.json`.
 */
export const accountsSeedSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  accounts: z
    .record(z.string().regex(ACCOUNT_ID, 'account ids are 12 digits'), accountSeedSchema)
    .default({}),
});

/** A seed as written by hand (defaults may be left out). */
export type AccountsSeed = z.input<typeof accountsSeedSchema>;
/** A validated seed, defaults applied. */
export type ParsedAccountsSeed = z.output<typeof accountsSeedSchema>;
export type RoleSeed = z.output<typeof roleSeedSchema>;

/**
 * Validates an accounts seed.
 *
 * @throws {TypeError} naming every offending path, e.g. `accounts.222233334444.roles[0].name`.
 */
export const parseAccountsSeed = (input: unknown, source = 'seed'): ParsedAccountsSeed => {
  const result = accountsSeedSchema.safeParse(input);
  if (!result.success) {
    throw new TypeError(`Invalid STS emulator ${source}:\n${z.prettifyError(result.error)}`);
  }
  for (const [accountId, account] of Object.entries(result.data.accounts)) {
    const names = account.roles.map((role) => role.name.toLowerCase());
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate !== undefined) {
      // IAM role names are unique per account, case-insensitively.
      throw new TypeError(
        `Invalid STS emulator ${source}: accounts.${accountId} has the role '${duplicate}' twice`,
      );
    }
  }
  return result.data;
};

/** Reads and validates an accounts seed JSON file. */
export const loadAccountsSeed = async (path: string): Promise<ParsedAccountsSeed> => {
  const text = await readFile(path, 'utf8');
  return parseAccountsSeed(JSON.parse(text), `seed file '${path}'`);
};
