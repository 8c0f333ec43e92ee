/**
 * What `load` resolves to, loaded once, at the first call: an SDK module imported dynamically
 * (`sts-sdk.ts`, `lambda-sdk.ts`) and the client built from it, or an adapter module and the
 * adapter (the queue and the breaker's switch, in `src/wiring.ts`). Concurrent first calls share
 * one load; a failed load is tried again at the next call rather than kept.
 *
 * The `import()` stays in the caller's `load`, with its literal path, so that esbuild splits that
 * module into a chunk of its own.
 */
export const onFirstUse = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
};
