import { type ConversionConfig, type JsonSchema, toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { AuditDetailSchema } from './audit-schema.js';
import { ISSUED_AT_PATTERN, RevocationRequestSchema } from './request.js';
import { BreakerOpenedDetailSchema, SwitchDetailSchema } from './switch-event-schemas.js';

/**
 * JSON Schema documents for producers (the request) and for audit consumers and EventBridge's
 * schema registry (the audit detail), generated from the valibot schemas the worker itself uses,
 * so the published contract cannot drift from the code.
 */
export const jsonSchemas = (): Record<string, unknown> => ({
  'revocation-request.schema.json': document(
    'https://schemas.datashare-revoker.dev/revocation-request/v1',
    toJsonSchema(RevocationRequestSchema, {
      ...CONVERSION,
      typeMode: 'input',
      definitions: { RevocationRequest: RevocationRequestSchema },
    }),
  ),
  'audit-detail.schema.json': document(
    'https://schemas.datashare-revoker.dev/audit-detail/v1',
    toJsonSchema(AuditDetailSchema, {
      ...CONVERSION,
      ...CLOSED_OBJECTS,
      definitions: { DatashareRevocationResult: AuditDetailSchema },
    }),
  ),
  'breaker-opened-detail.schema.json': document(
    'https://schemas.datashare-revoker.dev/breaker-opened-detail/v1',
    toJsonSchema(BreakerOpenedDetailSchema, { ...CONVERSION, ...CLOSED_OBJECTS }),
  ),
  'switch-detail.schema.json': document(
    'https://schemas.datashare-revoker.dev/switch-detail/v1',
    toJsonSchema(SwitchDetailSchema, { ...CONVERSION, ...CLOSED_OBJECTS }),
  ),
});

/** `$id` and `$schema` first, then the rest, as a reader expects them. */
const document = (id: string, { $schema, ...rest }: JsonSchema): JsonSchema => ({
  $id: id,
  $schema,
  ...rest,
});

/**
 * The events the worker emits are described as they are: no field besides those listed
 * (`additionalProperties: false`), so a consumer's validator catches a drift. The request stays
 * open: a producer may send fields of a later version, which the worker ignores.
 */
const CLOSED_OBJECTS: Pick<ConversionConfig, 'overrideSchema'> = {
  overrideSchema: ({ valibotSchema, jsonSchema }) =>
    valibotSchema.type === 'object' ? { ...jsonSchema, additionalProperties: false } : undefined,
};

/**
 * What the converter cannot say on its own (anything else fails the conversion):
 * - the request's whole-request check ("exactly one target"; `raw_check`) is stated as `oneOf`
 *   (`disassociateEntireAccount: false` counts as not given, as in the worker);
 * - `issuedAt`'s pattern is a date-time, so it says `format: date-time` too.
 */
const CONVERSION: ConversionConfig = {
  target: 'draft-2020-12',
  overrideAction: ({ valibotAction, jsonSchema }) => {
    if (valibotAction.type === 'raw_check') return withExactlyOneTarget(jsonSchema);
    if (isIssuedAtPattern(valibotAction))
      return { ...jsonSchema, format: 'date-time', pattern: ISSUED_AT_PATTERN.source };
    return undefined;
  },
};

const isIssuedAtPattern = (action: { type: string }): boolean =>
  action.type === 'regex' &&
  (action as v.RegexAction<string, string>).requirement === ISSUED_AT_PATTERN;

const withExactlyOneTarget = (schema: JsonSchema): JsonSchema => ({
  ...schema,
  oneOf: [
    { required: ['consumerArn'] },
    { required: ['consumerRegion'] },
    {
      required: ['disassociateEntireAccount'],
      properties: { disassociateEntireAccount: { const: true } },
    },
  ],
});
