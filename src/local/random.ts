/** A source of uniform numbers in [0, 1); seeded, so an emulator's fault run is reproducible. */
export interface RandomSource {
  next(): number;
}

/**
 * mulberry32: a tiny 32-bit PRNG, good enough to spread injected faults and fast enough to call
 * on every request. Not for anything secret.
 *
 * @example
 * const random = createRandom(42);
 * random.next(); // always the same first number for seed 42
 */
export const createRandom = (seed: number): RandomSource => {
  let state = seed >>> 0;
  return {
    next: () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    },
  };
};

/** A seed for callers that gave none; exposed by the emulators so a failing run can be replayed. */
export const randomSeed = (): number => Math.floor(Math.random() * 2 ** 32);

/** The same generator as a plain function, for workloads (benchmarks, end-to-end tests). */
export const seededRandom = (seed: number): (() => number) => {
  const source = createRandom(seed);
  return () => source.next();
};
