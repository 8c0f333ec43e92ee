/**
 * Cold start: bundle size, and the time a fresh Node process needs to import the bundled handler
 * (which builds its clients at module scope), for the worker, the baseline and a floor that only
 * loads and constructs the SDK clients and pino. Bundled exactly as serverless.yml's esbuild
 * block says; runs interleaved so that drift on a shared machine hits all three alike.
 * The block splits code: the "bundle" figure is what importing the handler reads (its file and
 * the chunks it imports statically), beside the total of every code file the build wrote.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
}

export const BUNDLES = ['floor', 'worker', 'baseline'] as const;
export type BundleName = (typeof BUNDLES)[number];

export interface BundleFigures {
  entry: string;
  /**
   * The bundle figure: bytes Node reads when it imports the handler — the entry file and the
   * chunks it imports statically, transitively (esbuild's metafile, `import-statement` edges).
   */
  bytes: number;
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
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/revocations-dlq',
  IDEMPOTENCY_TABLE_NAME: 'revoker-idempotency',
  LOG_LEVEL: 'info',
});

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

/** Sizes of the files a build wrote, as they are on disk (metafile paths are relative to ROOT). */
const sizesOf = async (metafile: Metafile, outputs: EntryOutputs): Promise<Sizes> => {
  const { atInit, lazy, maps } = outputs;
  const read = (files: readonly string[]) =>
    Promise.all(files.map((file) => readFile(join(ROOT, file))));
  const sum = (buffers: readonly Buffer[]) => buffers.reduce((n, b) => n + b.length, 0);
  const [initCode, lazyCode, mapCode] = await Promise.all([read(atInit), read(lazy), read(maps)]);
  return {
    bytes: sum(initCode),
    gzipBytes: initCode.reduce((n, code) => n + gzipSync(code).length, 0),
    initFiles: atInit.length,
    totalBytes: sum(initCode) + sum(lazyCode),
    totalFiles: atInit.length + lazy.length,
    mapBytes: sum(mapCode),
    composition: compositionOf(metafile, atInit),
    lazyComposition: compositionOf(metafile, lazy),
  };
};

interface Run {
  initMs: number;
  readyMs: number;
  wallMs: number;
}

const runProbe = (bundle: string, env: Record<string, string>): Promise<Run> =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [PROBE, bundle], {
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
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0) {
        reject(new Error(`cold-start probe of ${bundle} exited with ${code}: ${stderr.trim()}`));
        return;
      }
      try {
        const { importMs, readyMs } = JSON.parse(last) as { importMs: number; readyMs: number };
        resolve({ initMs: importMs, readyMs, wallMs });
      } catch (error) {
        reject(new Error(`cold-start probe of ${bundle} printed "${last}"`, { cause: error }));
      }
    });
  });

export const runColdStart = async (
  settings: ColdStartSettings,
  progress: Progress,
): Promise<ColdStartResult> => {
  progress.step('cold start');
  const source = join(ROOT, 'serverless.yml');
  const { options, nodeOptions } = await readServerlessBuild(source);
  const outRoot = await mkdtemp(join(tmpdir(), 'revoker-bench-'));
  try {
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
      sizes[name] = await sizesOf(metafile, outputs);
    }

    const env = childEnvironment(nodeOptions);
    const runs: Record<BundleName, Run[]> = { floor: [], worker: [], baseline: [] };
    const rounds = settings.warmupRuns + settings.runs;
    for (let round = 0; round < rounds; round++) {
      // Rotate the order: no bundle always runs first (or right after another).
      const order = BUNDLES.map((_, i) => BUNDLES[(i + round) % BUNDLES.length] as BundleName);
      for (const name of order) {
        const run = await runProbe(bundles[name], env);
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
        `all code: worker ${worker.totalBytes} B in ${worker.totalFiles} files (×${vf.total} floor, ×${vb.total} baseline)`,
    );
    return result;
  } finally {
    await rm(outRoot, { recursive: true, force: true });
  }
};
