import { describe, expect, it } from 'vitest';
import { onFirstUse } from '../../../src/adapters/first-use.js';

describe('onFirstUse', () => {
  it('loads once, at the first call, for every caller, concurrent ones included', async () => {
    // Prepare
    let loads = 0;
    const get = onFirstUse(async () => {
      loads += 1;
      return { client: loads };
    });
    // Act
    const before = loads;
    const [a, b] = await Promise.all([get(), get()]);
    const c = await get();
    // Assess
    expect(before).toBe(0);
    expect(loads).toBe(1);
    expect(a).toBe(b);
    expect(c).toBe(a);
  });

  it('does not keep a failed load: the next call loads again', async () => {
    // Prepare
    let loads = 0;
    const get = onFirstUse(async () => {
      loads += 1;
      if (loads === 1) throw new Error('chunk not found');
      return 'client';
    });
    // Act
    const first = await get().catch((error: Error) => error.message);
    const second = await get();
    // Assess
    expect(first).toBe('chunk not found');
    expect(second).toBe('client');
    expect(loads).toBe(2);
  });
});
