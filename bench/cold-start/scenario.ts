/**
 * Cold start: bundle size, and the time a fresh Node process needs to import the bundled handler
 * (which builds its clients at module scope), for the worker, the baseline and a floor that only
 * loads and constructs the SDK clients and pino. Bundled exactly as serverless.yml's esbuild
 * block says; runs interleaved so that drift on a shared machine hits all three alike.
 * The block splits code: the "bundle" figure is what importing the handler reads (its file, the
 * chunks it imports statically and those its configuration makes it await), beside the total of
 * every code file the build wrote.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, version as esbuildVersion, type Metafile } from 'esbuild';
import type { Progress } from '../progress.js';
import { ratio, round, type Sample, summarize } from '../statistics.js';
import { type EntryOutputs, entryOutputs } from './outputs.js';
import { readServerlessBuild } from './serverless-esbuild.js';

export interface ColdStartSettings {
  /** Measured runs per bundle (≥ 10 for the reported medians). */
  runs: number;
  /** Runs per bundle done first and left out (file-system cache). */
  warmupRuns: number;
  /**
   * The worker's configuration for `bytes` and the timed runs: hub mode and the guardrails
   * (`GUARDED_WORKER`), or nothing with `--defaults`. The floor and the baseline ignore it.
   */
  workerConfiguration: Readonly<Record<string, string>>;
}

export const BUNDLES = ['floor', 'worker', 'baseline'] as const;
export type BundleName = (typeof BUNDLES)[number];

export interface BundleFigures {
  entry: string;
  /**
   * The bundle figure: bytes of the code files Node reads when it imports the handler in the
   * configuration measured (`workerConfiguration`: hub mode and the guardrails), as a load hook in
   * the probe saw them — the entry file, the chunks it imports statically (esbuild's metafile,
   * `import-statement` edges) and the chunks its configuration makes it await at init (the
   * breaker's, with the breaker on).
   */
  bytes: number;
  /** The same with the deployment's defaults (no option set: nothing awaited at init). */
  bytesDefaults: number;
  /**
   * The same with every optional feature configured: hub mode, the breaker, the shared pace and a
   * datashare fence (`ALL_FEATURES`). Each of those awaits its module at init.
   */
  bytesAllFeatures: number;
  /** How many files `bytesAllFeatures` counts. */
  initFilesAllFeatures: number;
  /** Those files gzipped one by one (as a zip stores them), summed. */
  gzipBytes: number;
  /** How many files `bytes` counts (the entry and its static chunks). */
  initFiles: number;
  /** Every code file the build wrote (read at init or by an `import()` later): the zip's code. */
  totalBytes: number;
  /** How many code files `totalBytes` counts. */
  totalFiles: number;
  /** Every source map the build wrote (in the zip too; read only to map a stack trace). */
  mapBytes: number;
  /** In the child: `performance.now()` around `await import(bundle)`, ms. */
  initMs: Sample;
  /** In the child: process start → handler imported, ms. */
  readyMs: Sample;
  /** In the parent: spawn → exit of the child, ms. */
  wallMs: Sample;
  /** Bytes read at init by package (`src`, `bench` or the npm package), largest first. */
  composition: Record<string, number>;
  /** Bytes of the files read only by an `import()`, by package, largest first. */
  lazyComposition: Record<string, number>;
}

/** One side ÷ another: median init, bytes read at init, all code bytes, median wall time. */
export interface BundleRatios {
  init: number | null;
  bundle: number | null;
  /** `bytesDefaults` ÷ the other side's `bytes` (the floor has no features to turn on). */
  bundleDefaults: number | null;
  /** `bytesAllFeatures` ÷ the other side's `bytes`. */
  bundleAllFeatures: number | null;
  total: number | null;
  wall: number | null;
}

export interface ColdStartResult {
  settings: ColdStartSettings;
  esbuild: { version: string; source: string; nodeOptions: string };
  floor: BundleFigures;
  worker: BundleFigures;
  baseline: BundleFigures;
  workerVsFloor: BundleRatios;
  baselineVsFloor: BundleRatios;
  workerVsBaseline: BundleRatios;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRIES: Record<BundleName, string> = {
  floor: 'bench/cold-start/floor.ts',
  worker: 'src/handler.ts',
  baseline: 'bench/baseline/handler.ts',
};
const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));

/**
 * What the function's environment holds in Lambda (values are placeholders: nothing is called).
 * The child inherits nothing else, so no loader or option of this process leaks into it.
 */
const childEnvironment = (nodeOptions: string): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  ...(nodeOptions && { NODE_OPTIONS: nodeOptions }),
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AUDIT_EVENT_BUS_NAME: 'revoker-audit',
  SOURCE_QUEUE_ARN: 'arn:aws:sqs:us-east-1:111122223333:revocations',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/revocations-dlq',
  IDEMPOTENCY_TABLE_NAME: 'revoker-idempotency',
  LOG_LEVEL: 'info',
});

/**
 * Every optional feature on (placeholders: nothing is called at init): hub mode with its role and
 * accounts, the breaker with its window and queue, the shared pace, a datashare fence.
 */
const ALL_FEATURES: Record<string, string> = {
  CONSUMER_ROLE_NAME: 'revoker-consumer',
  CONSUMER_ACCOUNTS: '*',
  BREAKER_MAX_REVOCATIONS: '100',
  BREAKER_WINDOW_SECONDS: '300',
  SOURCE_QUEUE_ARN: 'arn:aws:sqs:us-east-1:111122223333:revocations',
  REDSHIFT_SHARED_PACE: 'true',
  ALLOWED_DATASHARES: 'arn:aws:redshift:us-east-1:111122223333:datashare:',
  WORKER_ROLE_ARN: 'arn:aws:iam::111122223333:role/revoker',
};

/** The package a bundled input comes from: its npm package name, or its top-level folder. */
const packageOf = (input: string): string => {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input);
  return match?.[1] ?? input.split('/')[0] ?? input;
};

/**
 * Bytes of the given outputs by package, largest first; packages under 1% of them are summed as
 * `other`.
 */
const compositionOf = (metafile: Metafile, files: readonly string[]): Record<string, number> => {
  const bytes = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[file]?.inputs ?? {})) {
      const name = packageOf(input);
      bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
      total += bytesInOutput;
    }
  }
  const sorted = [...bytes].sort((a, b) => b[1] - a[1]);
  const major = sorted.filter(([, n]) => n >= total / 100);
  const other = sorted.filter(([, n]) => n < total / 100).reduce((sum, [, n]) => sum + n, 0);
  return Object.fromEntries([...major, ...(other > 0 ? [['other', other] as const] : [])]);
};

type Sizes = Omit<BundleFigures, 'entry' | 'initMs' | 'readyMs' | 'wallMs'>;

/** What the probe saw read at init, as metafile paths (relative to ROOT). */
interface FilesRead {
  measured: string[];
  defaults: string[];
  allFeatures: string[];
}

/** Sizes of the files a build wrote, as they are on disk (metafile paths are relative to ROOT). */
const sizesOf = async (
  metafile: Metafile,
  outputs: EntryOutputs,
  filesRead: FilesRead,
): Promise<Sizes> => {
  const { lazy, maps } = outputs;
  const atInit = filesRead.measured;
  const lazyNow = [...outputs.atInit, ...lazy].filter((file) => !atInit.includes(file));
  const read = (files: readonly string[]) =>
    Promise.all(files.map((file) => readFile(join(ROOT, file))));
  const sum = (buffers: readonly Buffer[]) => buffers.reduce((n, b) => n + b.length, 0);
  const [initCode, lazyCode, mapCode, defaultsCode, allFeaturesCode] = await Promise.all([
    read(atInit),
    read(lazyNow),
    read(maps),
    read(filesRead.defaults),
    read(filesRead.allFeatures),
  ]);
  return {
    bytes: sum(initCode),
    bytesDefaults: sum(defaultsCode),
    bytesAllFeatures: sum(allFeaturesCode),
    initFilesAllFeatures: filesRead.allFeatures.length,
    gzipBytes: initCode.reduce((n, code) => n + gzipSync(code).length, 0),
    initFiles: atInit.length,
    totalBytes: sum(initCode) + sum(lazyCode),
    totalFiles: atInit.length + lazyNow.length,
    mapBytes: sum(mapCode),
    composition: compositionOf(metafile, atInit),
    lazyComposition: compositionOf(metafile, lazyNow),
  };
};

/**
 * The code files of this build that importing `bundle` reads in `env` (the probe's load hook), as
 * metafile paths. Checked against the metafile: every file the entry imports statically must be
 * among them, or one of the two readings is wrong.
 */
const filesReadAtInit = async (
  bundle: string,
  env: Record<string, string>,
  metafile: Metafile,
  outputs: EntryOutputs,
): Promise<string[]> => {
  const { stdout } = await spawnProbe(bundle, env, ['--files-read']);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let filesRead: string[];
  try {
    ({ filesRead } = JSON.parse(last) as { filesRead: string[] });
  } catch (error) {
    throw new Error(`cold-start probe of ${bundle} --files-read printed "${last}"`, {
      cause: error,
    });
  }
  const files = filesRead
    .map((url) => relative(ROOT, fileURLToPath(url)))
    .filter((file) => file in metafile.outputs);
  const missing = outputs.atInit.filter((file) => !files.includes(file));
  if (missing.length > 0)
    throw new Error(
      `cold-start probe of ${bundle} did not read ${missing.join(', ')}, which the entry imports statically`,
    );
  return files;
};

interface Run {
  initMs: number;
  readyMs: number;
  wallMs: number;
}

/** Runs the probe on `bundle` in a fresh Node process; its stdout, and the time to its exit. */
const spawnProbe = (
  bundle: string,
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<{ stdout: string; wallMs: number }> =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [PROBE, bundle, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) {
        reject(new Error(`cold-start probe of ${bundle} exited with ${code}: ${stderr.trim()}`));
        return;
      }
      resolve({ stdout, wallMs });
    });
  });

const runProbe = async (bundle: string, env: Record<string, string>): Promise<Run> => {
  const { stdout, wallMs } = await spawnProbe(bundle, env);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  try {
    const { importMs, readyMs } = JSON.parse(last) as { importMs: number; readyMs: number };
    return { initMs: importMs, readyMs, wallMs };
  } catch (error) {
    throw new Error(`cold-start probe of ${bundle} printed "${last}"`, { cause: error });
  }
};

export const runColdStart = async (
  settings: ColdStartSettings,
  progress: Progress,
): Promise<ColdStartResult> => {
  progress.step('cold start');
  const source = join(ROOT, 'serverless.yml');
  const { options, nodeOptions } = await readServerlessBuild(source);
  const outRoot = await mkdtemp(join(tmpdir(), 'revoker-bench-'));
  try {
    const env = childEnvironment(nodeOptions);
    const envOf = (name: BundleName) =>
      name === 'worker' ? { ...env, ...settings.workerConfiguration } : env;
    const bundles = {} as Record<BundleName, string>;
    const sizes = {} as Record<BundleName, Sizes>;
    for (const name of BUNDLES) {
      progress.status(`bundling ${ENTRIES[name]}`);
      const outdir = join(outRoot, name);
      const { metafile } = await build({
        ...options,
        entryPoints: [join(ROOT, ENTRIES[name])],
        outdir,
        absWorkingDir: ROOT,
        logLevel: 'silent',
        metafile: true,
      });
      const outputs = entryOutputs(metafile, ENTRIES[name]);
      bundles[name] = join(ROOT, outputs.entry);
      progress.status(`files ${ENTRIES[name]} reads at init`);
      const measured = await filesReadAtInit(bundles[name], envOf(name), metafile, outputs);
      const defaults = await filesReadAtInit(bundles[name], env, metafile, outputs);
      const allFeatures = await filesReadAtInit(
        bundles[name],
        { ...env, ...ALL_FEATURES },
        metafile,
        outputs,
      );
      sizes[name] = await sizesOf(metafile, outputs, { measured, defaults, allFeatures });
    }

    const runs: Record<BundleName, Run[]> = { floor: [], worker: [], baseline: [] };
    const rounds = settings.warmupRuns + settings.runs;
    for (let round = 0; round < rounds; round++) {
      // Rotate the order: no bundle always runs first (or right after another).
      const order = BUNDLES.map((_, i) => BUNDLES[(i + round) % BUNDLES.length] as BundleName);
      for (const name of order) {
        const run = await runProbe(bundles[name], envOf(name));
        if (round >= settings.warmupRuns) runs[name].push(run);
      }
      progress.status(`run ${round + 1}/${rounds} of each bundle`);
    }

    const figures = (name: BundleName): BundleFigures => ({
      entry: ENTRIES[name],
      ...sizes[name],
      initMs: summarize(
        runs[name].map((r) => r.initMs),
        1,
      ),
      readyMs: summarize(
        runs[name].map((r) => r.readyMs),
        1,
      ),
      wallMs: summarize(
        runs[name].map((r) => r.wallMs),
        1,
      ),
    });
    const [floor, worker, baseline] = [figures('floor'), figures('worker'), figures('baseline')];
    const versus = (side: BundleFigures, other: BundleFigures): BundleRatios => {
      const r = (a: number, b: number) => {
        const value = ratio(a, b);
        return value === null ? null : round(value, 3);
      };
      return {
        init: r(side.initMs.median, other.initMs.median),
        bundle: r(side.bytes, other.bytes),
        bundleDefaults: r(side.bytesDefaults, other.bytes),
        bundleAllFeatures: r(side.bytesAllFeatures, other.bytes),
        total: r(side.totalBytes, other.totalBytes),
        wall: r(side.wallMs.median, other.wallMs.median),
      };
    };
    const result: ColdStartResult = {
      settings,
      esbuild: { version: esbuildVersion, source: 'serverless.yml custom.esbuild', nodeOptions },
      floor,
      worker,
      baseline,
      workerVsFloor: versus(worker, floor),
      baselineVsFloor: versus(baseline, floor),
      workerVsBaseline: versus(worker, baseline),
    };
    const { workerVsFloor: vf, workerVsBaseline: vb } = result;
    progress.done(
      `init median: floor ${floor.initMs.median} ms, worker ${worker.initMs.median} ms (×${vf.init} floor, ×${vb.init} baseline), baseline ${baseline.initMs.median} ms; ` +
        `read at init: floor ${floor.bytes} B, worker ${worker.bytes} B (×${vf.bundle} floor, ×${vb.bundle} baseline), baseline ${baseline.bytes} B; ` +
        `with the defaults: worker ${worker.bytesDefaults} B (×${vf.bundleDefaults} floor); ` +
        `with every feature on: worker ${worker.bytesAllFeatures} B (×${vf.bundleAllFeatures} floor); ` +
        `all code: worker ${worker.totalBytes} B in ${worker.totalFiles} files (×${vf.total} floor, ×${vb.total} baseline)`,
    );
    return result;
  } finally {
    await rm(outRoot, { recursive: true, force: true });
  }
};
