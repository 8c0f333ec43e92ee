import { describe, expect, it } from 'vitest';
import { chunkBySize } from '../../src/cli/batching.js';
import { osUserIdentity, withFallback } from '../../src/cli/identity.js';
import { formatAge, renderTable, startProgress } from '../../src/cli/output.js';
import { Pacer, parseRate } from '../../src/cli/rate.js';
import { regionOfQueueUrl } from '../../src/cli/sqs.js';
import { memoryOutput } from './helpers.js';

describe('CLI support', () => {
  it('parses --rate as messages per second: 5, 5/s, 0.5/s', () => {
    expect(parseRate('--rate', '5')).toBe(5);
    expect(parseRate('--rate', '5/s')).toBe(5);
    expect(parseRate('--rate', '0.5/s')).toBe(0.5);
    expect(() => parseRate('--rate', '0')).toThrow(/'0' given/);
    expect(() => parseRate('--rate', '600/s')).toThrow(/from more than 0 to 500/);
  });

  it('paces batches to the rate: 10 messages at 5/s wait 2 s before the next', async () => {
    // Prepare: a clock that only moves when the pacer sleeps
    let now = 0;
    const slept: number[] = [];
    const pacer = new Pacer(
      5,
      () => now,
      async (ms) => {
        slept.push(ms);
        now += ms;
      },
    );

    // Act
    await pacer.take(10);
    await pacer.take(5);
    await pacer.take(5);

    // Assess
    expect(slept).toEqual([2000, 1000]);
  });

  it('groups send entries by count and by total size; a large one goes alone', () => {
    // Act
    const groups = chunkBySize([1, 1, 1, 5, 1, 1], (n) => n, 2, 4);

    // Assess
    expect(groups).toEqual([[1, 1], [1], [5], [1, 1]]);
  });

  it('names who replays: the resolver, else the OS user', async () => {
    expect(await withFallback(async () => 'arn:aws:sts::1:assumed-role/ops/alice')()).toBe(
      'arn:aws:sts::1:assumed-role/ops/alice',
    );
    expect(await withFallback(async () => Promise.reject(new Error('no credentials')))()).toBe(
      await osUserIdentity(),
    );
  });

  it('reads the region of a queue URL (AWS, legacy and fauxqs forms)', () => {
    expect(regionOfQueueUrl('https://sqs.eu-west-1.amazonaws.com/1/q')).toBe('eu-west-1');
    expect(regionOfQueueUrl('https://ap-south-1.queue.amazonaws.com/1/q')).toBe('ap-south-1');
    expect(regionOfQueueUrl('http://sqs.us-east-1.localhost:4566/0/q')).toBe('us-east-1');
    expect(regionOfQueueUrl('http://127.0.0.1:4566/0/q')).toBeUndefined();
    expect(regionOfQueueUrl('not a url')).toBeUndefined();
  });

  it('renders tables with cut cells, ages, and plain progress lines when stderr is no terminal', () => {
    // Act
    const table = renderTable(
      [
        { header: 'A', value: (r: { a: string }) => r.a, maxWidth: 5 },
        { header: 'B', value: () => 'x' },
      ],
      [{ a: 'abcdefgh' }, { a: 'ab\ncd' }],
    );
    const memory = memoryOutput();
    const progress = startProgress(memory.output, 'replay', 3);
    progress.advance(2, '2 replayed');
    progress.advance(1, '');
    progress.stop();

    // Assess
    expect(table).toBe('A      B\nabcd…  x\nab cd  x');
    expect([
      formatAge(null),
      formatAge(59),
      formatAge(120),
      formatAge(7200),
      formatAge(172_800),
    ]).toEqual(['-', '59s', '2m', '2h', '2d']);
    expect(memory.stderr).toEqual(['replay: 2/3 2 replayed', 'replay: 3/3']);
  });
});
