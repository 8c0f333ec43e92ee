import { describe, expect, it } from 'vitest';
import { InMemoryIdempotencyStore } from '../../../src/adapters/memory-store.js';
import { describeIdempotencyStoreContract, RESOLUTION } from '../../helpers/store-contract.js';

describe('InMemoryIdempotencyStore (IdempotencyStore contract)', () => {
  describeIdempotencyStoreContract(
    ({ ttlSeconds, clock }) => new InMemoryIdempotencyStore({ ttlSeconds, clock }),
  );
});

describe('InMemoryIdempotencyStore', () => {
  it('uses the system clock by default', async () => {
    // Prepare
    const store = new InMemoryIdempotencyStore({ ttlSeconds: 60 });
    // Act
    await store.claim('evt-1', Date.now() + 30_000);
    await store.complete('evt-1', RESOLUTION);
    // Assess
    expect(await store.claim('evt-1', Date.now() + 30_000)).toEqual({
      status: 'completed',
      resolution: RESOLUTION,
    });
  });
});
