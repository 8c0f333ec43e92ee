import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The handler bundled as serverless.yml bundles it (the options that decide what is included). */
const bundleHandler = async (): Promise<Metafile> => {
  const { metafile } = await build({
    entryPoints: ['src/handler.ts'],
    absWorkingDir: ROOT,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    outfile: 'handler.mjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return metafile;
};

describe('handler bundle: zod/mini only, and only what the handler validates', () => {
  let inputs: Record<string, number>;
  beforeAll(async () => {
    const metafile = await bundleHandler();
    const [output] = Object.values(metafile.outputs);
    inputs = Object.fromEntries(
      Object.entries(output?.inputs ?? {}).map(([path, { bytesInOutput }]) => [
        path,
        bytesInOutput,
      ]),
    );
  }, 30_000);

  it("includes none of zod's classic API, locales, JSON Schema conversion or compiler", () => {
    const unwanted = Object.keys(inputs).filter((path) =>
      /node_modules\/zod\/(index\.js|v4\/(classic|locales)\/|v4\/core\/(to-json-schema|json-schema|compile))/.test(
        path,
      ),
    );
    expect(unwanted).toEqual([]);
  });

  it('does not build the audit detail schema or the JSON Schemas, which the handler never parses with', () => {
    expect(Object.keys(inputs)).not.toContain('src/core/audit-schema.ts');
    expect(Object.keys(inputs)).not.toContain('src/core/json-schemas.ts');
  });

  it('keeps zod under 48 KiB of the bundle (it was 459 KiB with the classic API)', () => {
    const zodBytes = Object.entries(inputs)
      .filter(([path]) => path.includes('node_modules/zod/'))
      .reduce((sum, [, bytes]) => sum + bytes, 0);
    expect(zodBytes).toBeGreaterThan(0);
    expect(zodBytes).toBeLessThan(48 * 1024);
  });
});
