/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * mulberry32: a small, fast, seedable PRNG. The workloads are drawn from it so that the worker and
 * the baseline face the very same storm, and a run can be replayed with the same seed.
 */
export const seededRandom = (seed: number): Random => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

/** A whole number in [0, bound). */
export const randomIndex = (random: Random, bound: number): number => Math.floor(random() * bound);

/** Fisher–Yates, in place; returns the array. */
export const shuffle = <T>(items: T[], random: Random): T[] => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomIndex(random, i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
};

/** A UUID-shaped id (8-4-4-4-12 hex) drawn from `random`: valid in namespace and datashare ARNs. */
export const uuidFrom = (random: Random): string => {
  const hex = (length: number) =>
    Array.from({ length }, () => randomIndex(random, 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
};
