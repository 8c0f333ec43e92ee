import { describe, expect, it } from 'vitest';
import { InMemoryIdempotencyStore } from '../../../src/adapters/memory-store.js';
import { describeIdempotencyStoreContract, RESOLUTION } from '../../helpers/store-contract.js';

describe('InMemoryIdempotencyStore (IdempotencyStore contract)', () => {
  describeIdempotencyStoreContract((retention) => new InMemoryIdempotencyStore(retention));
});

describe('InMemoryIdempotencyStore', () => {
  it('uses the system clock by default', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore({ ttlSeconds: 60 });
    // Act
    const signal = new AbortController().signal;
    await store.claim('evt-1', { owner: 'a', until: Date.now() + 30_000 }, signal);
    await store.complete('evt-1', RESOLUTION, signal);
    // Assess
    expect(await store.claim('evt-1', { owner: 'b', until: Date.now() + 30_000 }, signal)).toEqual({
      status: 'completed',
      resolution: RESOLUTION,
    });
  });
});
