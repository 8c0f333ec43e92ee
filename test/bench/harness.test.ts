/**
 * The benchmark harness's own pieces: the storm workload, the command line, and the reading of
 * serverless.yml's esbuild block (the cold-start bundles must be built as the deployed one is).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseCliOptions, UsageError } from '../../bench/cli-options.js';
import {
  nodeOptionsOf,
  parseEsbuildBlock,
  toBuildOptions,
} from '../../bench/cold-start/serverless-esbuild.js';
import { median, quantile } from '../../bench/statistics.js';
import { makeStormPlan } from '../../bench/workload.js';

const SHAPE = { requests: 200, targets: 40, uniqueEventIds: 150, seed: 7 };
const ISSUED_AT = new Date('2026-11-25T08:00:00Z');

describe('storm workload', () => {
  it('sends `requests` messages carrying exactly `uniqueEventIds` decisions over `targets` targets', () => {
    // Act
    const plan = makeStormPlan(SHAPE, ISSUED_AT, 'test');
    const bodies = plan.messages.map((m) => JSON.parse(m.body) as Record<string, string>);

    // Assess
    expect(plan.messages).toHaveLength(SHAPE.requests);
    expect(new Set(plan.messages.map((m) => m.eventId)).size).toBe(SHAPE.uniqueEventIds);
    expect(plan.eventIds).toHaveLength(SHAPE.uniqueEventIds);
    expect(new Set(bodies.map((b) => `${b.dataShareArn}|${b.consumerArn}`)).size).toBe(
      SHAPE.targets,
    );
    expect(new Set(bodies.map((b) => b.issuedAt))).toEqual(new Set([ISSUED_AT.toISOString()]));
  });

  it('re-sends a duplicate eventId with the very same body', () => {
    // Act
    const plan = makeStormPlan(SHAPE, ISSUED_AT, 'test');
    const bodiesById = new Map<string, Set<string>>();
    for (const m of plan.messages)
      bodiesById.set(m.eventId, (bodiesById.get(m.eventId) ?? new Set()).add(m.body));

    // Assess
    for (const bodies of bodiesById.values()) expect(bodies.size).toBe(1);
  });

  it('draws the same storm from the same seed, and another from another seed', () => {
    // Act
    const a = makeStormPlan(SHAPE, ISSUED_AT, 'test');
    const b = makeStormPlan(SHAPE, ISSUED_AT, 'test');
    const c = makeStormPlan({ ...SHAPE, seed: 8 }, ISSUED_AT, 'test');

    // Assess
    expect(b.messages).toEqual(a.messages);
    expect(c.messages).not.toEqual(a.messages);
  });

  it('refuses a shape with more targets than decisions or more decisions than messages', () => {
    // Act / Assess
    expect(() => makeStormPlan({ ...SHAPE, targets: 151 }, ISSUED_AT, 'test')).toThrow(
      /targets ≤ uniqueEventIds ≤ requests; given targets 151/,
    );
    expect(() => makeStormPlan({ ...SHAPE, uniqueEventIds: 201 }, ISSUED_AT, 'test')).toThrow(
      RangeError,
    );
  });
});

describe('bench command line', () => {
  it('defaults to every scenario at full size, written to bench/results.json', () => {
    // Act / Assess
    expect(parseCliOptions([])).toEqual({
      quick: false,
      singleThread: false,
      workerOnly: false,
      workerEnv: {},
      defaults: false,
      storeLatencyMs: 0,
      out: 'bench/results.json',
      help: false,
    });
  });

  it('takes --only as a comma-separated list, --quick, --defaults and --out, with or without "="', () => {
    // Act
    const options = parseCliOptions([
      '--only',
      'storm,cold-start',
      '--quick',
      '--single-thread',
      '--worker-env',
      'REDSHIFT_SHARED_PACE=true',
      '--worker-env=LOG_LEVEL=info',
      '--defaults',
      '--store-latency-ms',
      '10',
      '--out=x.json',
    ]);

    // Assess
    expect(options).toEqual({
      only: ['storm', 'cold-start'],
      quick: true,
      singleThread: true,
      workerOnly: false,
      workerEnv: { REDSHIFT_SHARED_PACE: 'true', LOG_LEVEL: 'info' },
      defaults: true,
      storeLatencyMs: 10,
      out: 'x.json',
      help: false,
    });
  });

  it('refuses a --store-latency-ms that is not a whole number of milliseconds up to 1000, naming what was given', () => {
    for (const given of ['-5', '2.5', 'ten', '1001'])
      expect(() => parseCliOptions(['--store-latency-ms', given])).toThrow(
        `--store-latency-ms: expected a whole number of milliseconds from 0 to 1000; given '${given}'`,
      );
  });

  it('refuses a --worker-env that is not KEY=VALUE, naming what was given', () => {
    expect(() => parseCliOptions(['--worker-env', 'shared=true'])).toThrow(
      new UsageError(
        "--worker-env: expected KEY=VALUE with an upper-case variable name; given 'shared=true'",
      ),
    );
  });

  it('names an unknown scenario and lists the known ones', () => {
    // Act / Assess
    expect(() => parseCliOptions(['--only', 'strom'])).toThrow(
      new UsageError(
        "--only: unknown scenario 'strom'; expected one of storm, stormMultiAccount, latency, cold-start, throughput, memory",
      ),
    );
  });

  it('refuses an unknown option and an option without its value', () => {
    // Act / Assess
    expect(() => parseCliOptions(['--fast'])).toThrow("unknown option '--fast'");
    expect(() => parseCliOptions(['--out'])).toThrow('--out needs a value');
    expect(() => parseCliOptions(['--out', '--quick'])).toThrow('--out needs a value');
  });
});

describe("serverless.yml's esbuild block", () => {
  it('gives the esbuild options serverless-esbuild builds the function with', async () => {
    // Prepare
    const yaml = await readFile(new URL('../../serverless.yml', import.meta.url), 'utf8');

    // Act
    const options = toBuildOptions(parseEsbuildBlock(yaml));

    // Assess
    expect(options).toMatchObject({
      bundle: true,
      minify: true,
      sourcemap: true,
      target: 'node22',
      platform: 'node',
      format: 'esm',
      external: [],
      outExtension: { '.js': '.mjs' },
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
    });
    expect(options.banner?.js).toContain('createRequire');
    expect(options).not.toHaveProperty('exclude');
    expect(nodeOptionsOf(yaml)).toBe('--enable-source-maps');
  });

  it('applies serverless-esbuild defaults and reads quoted values, flow lists and comments', () => {
    // Prepare
    const yaml = [
      'custom:',
      '  other: 1',
      '  esbuild:',
      '    # a comment',
      "    target: 'node22' # trailing",
      '    mainFields: [module, main]',
      '    banner:',
      '      js: "const a = \'#\';"',
      'functions: {}',
    ].join('\n');

    // Act
    const options = toBuildOptions(parseEsbuildBlock(yaml));

    // Assess
    expect(options).toEqual({
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: { js: "const a = '#';" },
      external: ['aws-sdk'],
    });
  });

  it('fails on YAML it cannot read rather than guess', () => {
    // Act / Assess
    expect(() => parseEsbuildBlock('custom:\n  esbuild:\n    - item\n')).toThrow(
      'serverless.yml custom.esbuild: cannot read "- item"',
    );
    expect(() => parseEsbuildBlock('provider: {}\n')).toThrow('no custom.esbuild block');
  });
});

describe('bench statistics', () => {
  it('takes the middle of an odd sample and interpolates an even one', () => {
    // Act / Assess
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.9)).toBe(46);
    expect(() => median([])).toThrow(RangeError);
  });
});
