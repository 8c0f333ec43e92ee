import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemas } from '../../src/core/json-schemas.js';

describe('published JSON Schemas', () => {
  it.each(Object.keys(jsonSchemas()))(
    'schemas/%s is what the valibot schemas generate (run npm run schemas)',
    (name) => {
      const committed = JSON.parse(
        readFileSync(join(import.meta.dirname, '..', '..', 'schemas', name), 'utf8'),
      );
      expect(committed).toEqual(jsonSchemas()[name]);
    },
  );

  it('states the exactly-one-target rule as oneOf', () => {
    const schema = jsonSchemas()['revocation-request.schema.json'] as {
      $defs: { RevocationRequest: { oneOf: unknown[] } };
    };
    expect(schema.$defs.RevocationRequest.oneOf).toHaveLength(3);
  });
});
