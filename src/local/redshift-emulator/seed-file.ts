import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import { expecting, isoDateTime, parseOrThrow, strictObject } from '../validation.js';
import { ACCOUNT_ID, isDataShareArn, isNamespaceArn, REGION_NAME } from './arn.js';
import { ASSOCIATION_STATUSES } from './types.js';

const namespaceArn = v.pipe(v.string(), v.check(isNamespaceArn, expecting('a namespace ARN')));

/** The targets an association names, for its message: `consumerArn and account`, or `none`. */
const targetsOf = (association: Record<string, unknown>): string => {
  const given = ['consumerArn', 'account', 'consumerRegion'].filter(
    (key) => association[key] !== undefined,
  );
  return given.length > 0 ? given.join(' and ') : 'none';
};

const associationSeedSchema = v.pipe(
  strictObject({
    /** A consumer namespace ARN (provisioned `namespace:<id>` or serverless `namespace/<id>`). */
    consumerArn: v.optional(namespaceArn),
    /** A consumer account id: an entire-account association, or the owner of `consumerRegion`. */
    account: v.optional(
      v.pipe(v.string(), v.regex(ACCOUNT_ID, expecting('a 12-digit account id'))),
    ),
    /** A region-wide association (all existing and future namespaces in the region). */
    consumerRegion: v.optional(
      v.pipe(v.string(), v.regex(REGION_NAME, expecting('a region name'))),
    ),
    status: v.optional(v.picklist(ASSOCIATION_STATUSES), 'ACTIVE'),
    createdDate: v.optional(isoDateTime()),
    statusChangeDate: v.optional(isoDateTime()),
    producerAllowedWrites: v.optional(v.boolean()),
    consumerAcceptedWrites: v.optional(v.boolean()),
  }),
  v.check(
    (a) =>
      a.consumerArn !== undefined
        ? a.account === undefined && a.consumerRegion === undefined
        : a.account !== undefined || a.consumerRegion !== undefined,
    (issue) =>
      `Invalid targets: Expected either consumerArn alone, or account and/or consumerRegion but received ${targetsOf(issue.input)}`,
  ),
);

const dataShareSeedSchema = strictObject({
  dataShareArn: v.pipe(
    v.string(),
    v.check(
      isDataShareArn,
      expecting('arn:<partition>:redshift:<region>:<account>:datashare:<namespace>/<name>'),
    ),
  ),
  /** Defaults to the producer namespace ARN implied by `dataShareArn`. */
  producerArn: v.optional(namespaceArn),
  allowPubliclyAccessibleConsumers: v.optional(v.boolean(), false),
  managedBy: v.optional(v.string()),
  associations: v.optional(v.array(associationSeedSchema), []),
});

/**
 * The seed format of the Redshift emulator: the datashares and their associations at start.
 * A JSON file in this shape is `examples/datashares.json`.
 */
export const seedFileSchema = strictObject({
  $schema: v.optional(v.string()),
  description: v.optional(v.string()),
  datashares: v.array(dataShareSeedSchema),
});

/** A seed as written by hand (defaults may be left out). */
export type SeedFile = v.InferInput<typeof seedFileSchema>;
/** A validated seed, defaults applied. */
export type ParsedSeedFile = v.InferOutput<typeof seedFileSchema>;
export type AssociationSeed = v.InferOutput<typeof associationSeedSchema>;

/**
 * Validates a seed object.
 *
 * @throws {TypeError} naming every offending path, e.g. `datashares[0].associations[1].consumerArn`,
 *   what it expects and what was given.
 */
export const parseSeedFile = (input: unknown, source = 'seed'): ParsedSeedFile =>
  parseOrThrow(seedFileSchema, input, `Redshift emulator ${source}`);

/** Reads and validates a seed JSON file. */
export const loadSeedFile = async (path: string): Promise<ParsedSeedFile> => {
  const text = await readFile(path, 'utf8');
  return parseSeedFile(JSON.parse(text), `seed file '${path}'`);
};
