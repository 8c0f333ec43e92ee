/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

// mulberry32, shared with the emulators: the workloads are drawn from it so that the worker and
// the baseline face the very same storm, and a run can be replayed with the same seed.
export { seededRandom } from '../src/local/random.js';

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
