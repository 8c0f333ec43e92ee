import * as z from 'zod/mini';
import { AuditDetailSchema } from './audit-schema.js';
import { RevocationRequestSchema } from './request.js';
import { BreakerOpenedDetailSchema, SwitchDetailSchema } from './switch-event-schemas.js';

/**
 * JSON Schema documents for producers (the request) and for audit consumers and EventBridge's
 * schema registry (the audit detail), generated from the zod schemas the worker itself uses, so
 * the published contract cannot drift from the code.
 */
export const jsonSchemas = (): Record<string, unknown> => ({
  'revocation-request.schema.json': {
    $id: 'https://schemas.datashare-revoker.dev/revocation-request/v1',
    ...withExactlyOneTarget(
      z.toJSONSchema(RevocationRequestSchema, { target: 'draft-2020-12', io: 'input' }),
    ),
  },
  'audit-detail.schema.json': {
    $id: 'https://schemas.datashare-revoker.dev/audit-detail/v1',
    ...z.toJSONSchema(AuditDetailSchema, { target: 'draft-2020-12' }),
  },
  'breaker-opened-detail.schema.json': {
    $id: 'https://schemas.datashare-revoker.dev/breaker-opened-detail/v1',
    ...z.toJSONSchema(BreakerOpenedDetailSchema, { target: 'draft-2020-12' }),
  },
  'switch-detail.schema.json': {
    $id: 'https://schemas.datashare-revoker.dev/switch-detail/v1',
    ...z.toJSONSchema(SwitchDetailSchema, { target: 'draft-2020-12' }),
  },
});

/**
 * zod's refinement "exactly one target" has no JSON Schema form of its own; state it as `oneOf`
 * (`disassociateEntireAccount: false` counts as not given, as in the worker).
 */
const withExactlyOneTarget = (
  schema: z.core.JSONSchema.BaseSchema,
): z.core.JSONSchema.BaseSchema => {
  const definition = schema.$defs?.RevocationRequest;
  if (definition && typeof definition === 'object') {
    definition.oneOf = [
      { required: ['consumerArn'] },
      { required: ['consumerRegion'] },
      {
        required: ['disassociateEntireAccount'],
        properties: { disassociateEntireAccount: { const: true } },
      },
    ];
  }
  return schema;
};
