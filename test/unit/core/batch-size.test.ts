import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packBatches, putEventsEntryBytes, sqsMessageBytes } from '../../../src/core/batch-size.js';

const bySize = { sizeOf: (n: number) => n };

describe('packBatches', () => {
  it('closes a group at the count limit', () => {
    // Prepare
    const items = Array.from({ length: 23 }, () => 1);
    // Act
    const groups = packBatches(items, { maxCount: 10, maxBytes: 1000, ...bySize });
    // Assess
    expect(groups.map((group) => group.length)).toEqual([10, 10, 3]);
  });

  it('closes a group before the item that would pass the byte limit', () => {
    // Prepare / Act
    const groups = packBatches([40, 40, 30, 50, 60], { maxCount: 10, maxBytes: 100, ...bySize });
    // Assess: 40+40 fits, +30 would not; 30+50 fits, +60 would not
    expect(groups).toEqual([[40, 40], [30, 50], [60]]);
  });

  it('sends an item larger than the byte limit alone, and keeps packing after it', () => {
    const groups = packBatches([10, 500, 10, 10], { maxCount: 10, maxBytes: 100, ...bySize });
    expect(groups).toEqual([[10], [500], [10, 10]]);
  });

  it('makes no group of nothing', () => {
    expect(packBatches([], { maxCount: 10, maxBytes: 100, ...bySize })).toEqual([]);
  });

  it('refuses a count limit below 1, naming what was given', () => {
    expect(() => packBatches([1], { maxCount: 0, maxBytes: 100, ...bySize })).toThrow(
      'maxCount must be a positive integer, 0 given',
    );
  });

  it('never passes either limit except with a lone oversized item, keeps order, and loses nothing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 300 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 400 }),
        (items, maxCount, maxBytes) => {
          // Act
          const groups = packBatches(items, { maxCount, maxBytes, ...bySize });
          // Assess
          expect(groups.flat()).toEqual(items);
          for (const group of groups) {
            expect(group.length).toBeGreaterThan(0);
            expect(group.length).toBeLessThanOrEqual(maxCount);
            const total = group.reduce((sum, n) => sum + n, 0);
            if (group.length > 1) expect(total).toBeLessThanOrEqual(maxBytes);
          }
          // Greedy: each group was closed only because the next item would not fit.
          groups.slice(0, -1).forEach((group, index) => {
            const next = groups[index + 1]?.[0] ?? 0;
            const total = group.reduce((sum, n) => sum + n, 0);
            expect(group.length === maxCount || total + next > maxBytes).toBe(true);
          });
        },
      ),
    );
  });
});

describe('putEventsEntryBytes', () => {
  it('counts Source, DetailType, Detail and each resource in UTF-8 bytes, as EventBridge documents', () => {
    const size = putEventsEntryBytes({
      source: 'gov.revoker', // 11
      detailType: 'Datashare Revocation Result', // 27
      detail: '{"r":"é"}', // 10: é is 2 bytes
      resources: ['arn:a', 'arn:bb'], // 5 + 6
    });
    expect(size).toBe(11 + 27 + 10 + 11);
  });

  it('counts 14 bytes for a Time that is set', () => {
    const base = { source: 's', detailType: 'd' };
    expect(putEventsEntryBytes({ ...base, time: new Date() }) - putEventsEntryBytes(base)).toBe(14);
  });
});

describe('sqsMessageBytes', () => {
  it("counts the body and every attribute's name, type and value, binary values decoded", () => {
    const size = sqsMessageBytes('{"é":1}', {
      tenant: { dataType: 'String', stringValue: 'acme' },
      signature: { dataType: 'Binary', binaryValue: Buffer.from([1, 2, 3]).toString('base64') },
    });
    expect(size).toBe(8 + (6 + 6 + 4) + (9 + 6 + 3));
  });
});
