/**
 * What a code-split build reads when. Importing the entry reads its file and every chunk it
 * imports with a static `import` statement, transitively; a chunk reached only through an
 * `import()` is read when that `import()` first runs (for the worker: the breaker's Lambda client,
 * the SDK's credential providers). Read from esbuild's metafile, whose `imports` give each
 * output's edges with their kind.
 */
import type { Metafile } from 'esbuild';

export interface EntryOutputs {
  /** The entry's output file (a metafile key: relative to esbuild's working directory). */
  entry: string;
  /** Code files read when the entry is imported: the entry first, then its static chunks. */
  atInit: string[];
  /** Code files read only when an `import()` runs (directly or through another such file). */
  lazy: string[];
  /** Source maps (read only when a stack trace is mapped). */
  maps: string[];
}

/**
 * Splits a build's outputs by when Node reads them, for the entry built from `entryPoint`.
 *
 * @example
 * const { metafile } = await build({ ...options, entryPoints: ['src/handler.ts'], metafile: true });
 * const { atInit, lazy } = entryOutputs(metafile, 'src/handler.ts');
 * @throws {Error} when no output was built from `entryPoint` (the metafile's `entryPoint`).
 */
export const entryOutputs = (metafile: Metafile, entryPoint: string): EntryOutputs => {
  const outputs = metafile.outputs;
  const files = Object.keys(outputs);
  const entry = files.find((file) => outputs[file]?.entryPoint === entryPoint);
  if (entry === undefined) {
    throw new Error(
      `no output of this build comes from entry point "${entryPoint}"; entry points built: ${JSON.stringify(
        files.map((file) => outputs[file]?.entryPoint).filter((point) => point !== undefined),
      )}`,
    );
  }
  const atInit = [entry];
  for (let i = 0; i < atInit.length; i++) {
    for (const edge of outputs[atInit[i] as string]?.imports ?? []) {
      if (!edge.external && edge.kind === 'import-statement' && !atInit.includes(edge.path))
        atInit.push(edge.path);
    }
  }
  const maps = files.filter((file) => file.endsWith('.map'));
  const lazy = files.filter((file) => !file.endsWith('.map') && !atInit.includes(file));
  return { entry, atInit, lazy, maps };
};
