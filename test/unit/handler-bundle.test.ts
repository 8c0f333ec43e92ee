import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EntryOutputs, entryOutputs } from '../../bench/cold-start/outputs.js';
import { readServerlessBuild } from '../../bench/cold-start/serverless-esbuild.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = 'src/handler.ts';
/** The function's environment in Lambda, the defaults (placeholders: nothing is called). */
const HANDLER_ENV = {
  AWS_REGION: 'us-east-1',
  AUDIT_EVENT_BUS_NAME: 'revoker-audit',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/revocations-dlq',
  IDEMPOTENCY_TABLE_NAME: 'revoker-idempotency',
  LOG_LEVEL: 'silent',
};

let outdir: string;
let metafile: Metafile;
let outputs: EntryOutputs;

/**
 * The handler bundled exactly as serverless.yml's `custom.esbuild` block says (read from the
 * file, as the cold-start bench does), into a directory outside the repository: no node_modules
 * up the tree, as in Lambda.
 */
beforeAll(async () => {
  const { options } = await readServerlessBuild(join(ROOT, 'serverless.yml'));
  outdir = await mkdtemp(join(tmpdir(), 'revoker-handler-bundle-'));
  ({ metafile } = await build({
    ...options,
    entryPoints: [ENTRY],
    absWorkingDir: ROOT,
    outdir,
    metafile: true,
    logLevel: 'silent',
  }));
  outputs = entryOutputs(metafile, ENTRY);
}, 60_000);

afterAll(async () => {
  if (outdir) await rm(outdir, { recursive: true, force: true });
});

/** Bytes in the given outputs by input path. */
const inputsOf = (files: readonly string[]): Record<string, number> => {
  const inputs: Record<string, number> = {};
  for (const file of files) {
    for (const [path, { bytesInOutput }] of Object.entries(metafile.outputs[file]?.inputs ?? {}))
      inputs[path] = (inputs[path] ?? 0) + bytesInOutput;
  }
  return inputs;
};

describe('handler bundle: valibot, and only what the handler validates', () => {
  const everything = () => inputsOf([...outputs.atInit, ...outputs.lazy]);

  it('includes no zod and no JSON Schema conversion', () => {
    const unwanted = Object.keys(everything()).filter((path) =>
      /node_modules\/(zod|@valibot\/to-json-schema)\//.test(path),
    );
    expect(unwanted).toEqual([]);
  });

  it('does not build the audit detail schema or the JSON Schemas, which the handler never parses with', () => {
    expect(Object.keys(everything())).not.toContain('src/core/audit-schema.ts');
    expect(Object.keys(everything())).not.toContain('src/core/json-schemas.ts');
  });

  it('keeps valibot under 12 KiB of the bundle (zod/mini was 31 KiB)', () => {
    const validationBytes = Object.entries(everything())
      .filter(([path]) => path.includes('node_modules/valibot/'))
      .reduce((sum, [, bytes]) => sum + bytes, 0);
    expect(validationBytes).toBeGreaterThan(0);
    expect(validationBytes).toBeLessThan(12 * 1024);
  });
});

describe('handler bundle: split, the Lambda client read only when the breaker opens, the STS client only at the first AssumeRole, the SQS client at the first dead-letter copy or visibility change', () => {
  it('writes ES modules only: the handler and every chunk end in .mjs (Node reads .js as CommonJS without a package.json)', async () => {
    // Act
    const written = await readdir(outdir, { recursive: true, withFileTypes: true });
    const files = written.filter((entry) => entry.isFile()).map((entry) => entry.name);

    // Assess
    expect(files).toContain('handler.mjs');
    expect(files.filter((name) => !/\.mjs(\.map)?$/.test(name))).toEqual([]);
    expect(outputs.atInit.length).toBeGreaterThan(1);
    expect(outputs.lazy.length).toBeGreaterThan(0);
    for (const chunk of [...outputs.atInit.slice(1), ...outputs.lazy])
      expect(chunk).toMatch(/\/chunks\/[\w-]+\.mjs$/);
  });

  // The breaker's Lambda client is read when the breaker first opens; a hub's STS client at its
  // first AssumeRole (a single-account worker never reads it).
  it.each([
    { sdk: '@aws-sdk/client-lambda/', module: 'src/adapters/lambda-sdk.ts' },
    { sdk: '@aws-sdk/client-sts/', module: 'src/adapters/sts-sdk.ts' },
    { sdk: '@aws-sdk/client-sqs/', module: 'src/adapters/sqs.ts' },
  ])(
    'leaves $sdk and $module out of every file read at init, and puts them in a lazy chunk',
    ({ sdk, module }) => {
      // Act
      const atInit = Object.keys(inputsOf(outputs.atInit));
      const lazy = Object.keys(inputsOf(outputs.lazy));

      // Assess
      expect(atInit.filter((path) => path.includes(sdk))).toEqual([]);
      expect(atInit).not.toContain(module);
      expect(lazy).toContain(module);
      expect(lazy.some((path) => path.includes(sdk))).toBe(true);
      // The consumer role's cache is read at init (hub mode is a setting read there).
      expect(atInit).toContain('src/adapters/consumer-role.ts');
    },
  );

  // What only a setting turns on is imported by the wiring when it does (the breaker, the shared
  // pace, the in-memory store); what only a rare event needs, at that event (the dead-letter and
  // visibility queue, the breaker's switch).
  it.each([
    'src/worker/breaker.ts',
    'src/worker/breaker-open.ts',
    'src/core/switch-events.ts',
    'src/adapters/pace-record.ts',
    'src/worker/shared-gate.ts',
    'src/core/shared-rate.ts',
    'src/worker/supersede.ts',
    'src/core/supersession.ts',
    'src/worker/set-aside.ts',
    'src/adapters/memory-store.ts',
    'src/adapters/sqs.ts',
    'src/adapters/lambda-mapping.ts',
  ])('leaves %s out of every file the entry imports statically', (module) => {
    expect(Object.keys(inputsOf(outputs.atInit))).not.toContain(module);
    expect(Object.keys(inputsOf(outputs.lazy))).toContain(module);
  });

  it.each([
    {
      settings: 'the defaults',
      env: {},
      reads: [],
      skips: ['breaker', 'breaker-open', 'pace-record', 'shared-gate'],
    },
    {
      settings: 'the breaker and the shared pace on',
      env: {
        BREAKER_MAX_REVOCATIONS: '100',
        BREAKER_WINDOW_SECONDS: '300',
        SOURCE_QUEUE_ARN: 'arn:aws:sqs:us-east-1:111122223333:revocations',
        REDSHIFT_SHARED_PACE: 'true',
      },
      // What the open breaker does is read when it first opens
      reads: ['breaker', 'pace-record', 'shared-gate'],
      skips: ['breaker-open'],
    },
  ])(
    'imports in a fresh Node 22 process with $settings, and reads at init the chunks of $reads only',
    async ({ env, reads, skips }) => {
      // Prepare
      const chunkOf = (name: string) =>
        Object.entries(metafile.outputs).find(([, output]) =>
          output.entryPoint?.endsWith(`/${name}.ts`),
        )?.[0];
      const probe = fileURLToPath(new URL('../../bench/cold-start/probe.mjs', import.meta.url));

      // Act
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [probe, join(ROOT, outputs.entry), '--files-read'],
        {
          cwd: outdir,
          timeout: 20_000,
          env: { PATH: process.env.PATH, ...HANDLER_ENV, ...env },
        },
      );

      // Assess
      const { filesRead } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
        filesRead: string[];
      };
      const read = filesRead.map((url) => relative(ROOT, fileURLToPath(url)));
      for (const name of reads) expect(read).toContain(chunkOf(name));
      for (const name of skips) expect(read).not.toContain(chunkOf(name));
      for (const file of outputs.atInit) expect(read).toContain(file);
    },
  );

  it.each([
    {
      module: 'src/adapters/lambda-sdk.ts',
      holds: ['LambdaClient', 'UpdateEventSourceMappingCommand', 'ListEventSourceMappingsCommand'],
    },
    { module: 'src/adapters/sts-sdk.ts', holds: ['STSClient', 'AssumeRoleCommand'] },
    // The queue's adapter imports the SQS SDK statically: its chunk loads only if the SDK's do.
    { module: 'src/adapters/sqs.ts', holds: ['SqsMessageQueue', 'toSqsAttribute'] },
  ])(
    'imports in a fresh Node 22 process with no node_modules, and the lazy chunk of $module loads and holds $holds',
    async ({ module, holds }) => {
      // Prepare: the chunk an import() of the module became (in the handler or a lazy chunk)
      const lazyChunk = Object.entries(metafile.outputs).find(
        ([, output]) => output.entryPoint === module,
      )?.[0];
      expect(lazyChunk).toBeDefined();
      expect(
        Object.values(metafile.outputs).some((output) =>
          output.imports.some((edge) => edge.path === lazyChunk && edge.kind === 'dynamic-import'),
        ),
      ).toBe(true);
      const script = [
        "import { pathToFileURL } from 'node:url';",
        // node -e: argv[1] is the first argument
        'const [entry, chunk] = process.argv.slice(1).map((path) => pathToFileURL(path).href);',
        'const handler = await import(entry);',
        'const sdk = await import(chunk);',
        'const names = Object.values(sdk).map((value) => value?.name).filter(Boolean);',
        'console.log(JSON.stringify({ handler: typeof handler.handler, names }));',
      ].join('\n');

      // Act
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          script,
          join(ROOT, outputs.entry),
          join(ROOT, lazyChunk ?? ''),
        ],
        {
          cwd: outdir,
          timeout: 20_000,
          env: { PATH: process.env.PATH, ...HANDLER_ENV },
        },
      );

      // Assess
      const { handler, names } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
      expect(handler).toBe('function');
      expect(names).toEqual(expect.arrayContaining(holds));
    },
  );
});
