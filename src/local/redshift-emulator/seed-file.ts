import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ACCOUNT_ID, isDataShareArn, isNamespaceArn, REGION_NAME } from './arn.js';
import { ASSOCIATION_STATUSES } from './types.js';

const associationSeedSchema = z
  .strictObject({
    /** A consumer namespace ARN (provisioned `namespace:<id>` or serverless `namespace/<id>`). */
    consumerArn: z.string().refine(isNamespaceArn, 'must be a namespace ARN').optional(),
    /** A consumer account id: an entire-account association, or the owner of `consumerRegion`. */
    account: z.string().regex(ACCOUNT_ID, 'must be a 12-digit account id').optional(),
    /** A region-wide association (all existing and future namespaces in the region). */
    consumerRegion: z.string().regex(REGION_NAME, 'must be a region name').optional(),
    status: z.enum(ASSOCIATION_STATUSES).default('ACTIVE'),
    createdDate: z.iso.datetime().optional(),
    statusChangeDate: z.iso.datetime().optional(),
    producerAllowedWrites: z.boolean().optional(),
    consumerAcceptedWrites: z.boolean().optional(),
  })
  .refine(
    (a) =>
      a.consumerArn !== undefined
        ? a.account === undefined && a.consumerRegion === undefined
        : a.account !== undefined || a.consumerRegion !== undefined,
    'give either consumerArn alone, or account and/or consumerRegion',
  );

const dataShareSeedSchema = z.strictObject({
  dataShareArn: z
    .string()
    .refine(
      isDataShareArn,
      'must be arn:<partition>:redshift:<region>:<account>:datashare:<namespace>/<name>',
    ),
  /** Defaults to the producer namespace ARN implied by `dataShareArn`. */
  producerArn: z.string().refine(isNamespaceArn, 'must be a namespace ARN').optional(),
  allowPubliclyAccessibleConsumers: z.boolean().default(false),
  managedBy: z.string().optional(),
  associations: z.array(associationSeedSchema).default([]),
});

/**
 * The seed format of the Redshift emulator: the datashares and their associations at start.
 * A JSON file in this shape is `examples/datashares.json`.
 */
export const seedFileSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  datashares: z.array(dataShareSeedSchema),
});

/** A seed as written by hand (defaults may be left out). */
export type SeedFile = z.input<typeof seedFileSchema>;
/** A validated seed, defaults applied. */
export type ParsedSeedFile = z.output<typeof seedFileSchema>;
export type AssociationSeed = z.output<typeof associationSeedSchema>;

/**
 * Validates a seed object.
 *
 * @throws {TypeError} naming every offending path, e.g. `datashares[0].associations[1].consumerArn`.
 */
export const parseSeedFile = (input: unknown, source = 'seed'): ParsedSeedFile => {
  const result = seedFileSchema.safeParse(input);
  if (result.success) return result.data;
  throw new TypeError(`Invalid Redshift emulator ${source}:\n${z.prettifyError(result.error)}`);
};

/** Reads and validates a seed JSON file. */
export const loadSeedFile = async (path: string): Promise<ParsedSeedFile> => {
  const text = await readFile(path, 'utf8');
  return parseSeedFile(JSON.parse(text), `seed file '${path}'`);
};
