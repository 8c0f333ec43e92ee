// Writes the published JSON Schemas (schemas/*.json) from the valibot schemas. Usage: npm run schemas
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemas } from '../src/core/json-schemas.js';

const directory = join(import.meta.dirname, '..', 'schemas');
for (const [name, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(join(directory, name), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote schemas/${name}`);
}
