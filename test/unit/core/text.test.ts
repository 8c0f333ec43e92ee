import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonStringBytes, truncateJsonText, truncateUtf8 } from '../../../src/core/text.js';

const isWellFormed = (text: string): boolean => Buffer.from(text, 'utf8').toString('utf8') === text;

describe('jsonStringBytes', () => {
  it('is the size JSON.stringify gives the string, quotes excluded', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), (unicode, ascii) => {
        for (const text of [unicode, ascii, `"\\\n\u0001${unicode}\uD800`]) {
          expect(jsonStringBytes(text)).toBe(Buffer.byteLength(JSON.stringify(text), 'utf8') - 2);
        }
      }),
    );
  });
});

describe('truncateJsonText', () => {
  it('returns a string that fits unchanged, and says it was not cut', () => {
    expect(truncateJsonText('short', 10)).toEqual({ text: 'short', cut: false });
  });

  it('cuts by the escaped size, ends in an ellipsis, and never splits a character', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.integer({ min: 3, max: 300 }),
        (text, maxBytes) => {
          // Act
          const result = truncateJsonText(text, maxBytes);
          // Assess
          expect(Buffer.byteLength(JSON.stringify(result.text), 'utf8') - 2).toBeLessThanOrEqual(
            maxBytes,
          );
          if (result.cut) {
            expect(result.text.endsWith('…')).toBe(true);
            expect(text.startsWith(result.text.slice(0, -1))).toBe(true);
          } else {
            expect(result.text).toBe(text);
          }
        },
      ),
    );
  });

  it('never splits a character of well-formed text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.nat({ max: 300 }),
        (text, n) => {
          expect(isWellFormed(truncateJsonText(text, n + 3).text)).toBe(true);
        },
      ),
    );
  });
});

describe('truncateUtf8', () => {
  it('cuts any text to the byte limit without splitting a character', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.nat({ max: 400 }),
        (text, n) => {
          const maxBytes = n + 3;
          const cut = truncateUtf8(text, maxBytes);
          expect(Buffer.byteLength(cut, 'utf8')).toBeLessThanOrEqual(maxBytes);
          expect(isWellFormed(cut)).toBe(true);
          if (cut !== text) expect(text.startsWith(cut.slice(0, -1))).toBe(true);
        },
      ),
    );
  });
});
