/**
 * The commander layer in-process: `main(argv)` with the real program, flags and exit codes,
 * against fauxqs. (subprocess.test.ts runs the same through the bin.)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/index.js';
import { deadLetter, type Fixture, inspect, requestBody, startFixture } from './helpers.js';

let fixture: Fixture;
let env: Record<string, string>;

beforeAll(async () => {
  fixture = await startFixture();
  env = { AWS_ENDPOINT_URL_SQS: fixture.server.address };
  // The SDK reads credentials from process.env itself.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await fixture.stop();
});

/** Runs `revoker ...args` in-process; returns the exit code and what it wrote. */
const revoker = async (args: string[], extraEnv: Record<string, string> = {}) => {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const code = await main(['node', 'revoker', ...args], { env: { ...env, ...extraEnv } });
  vi.restoreAllMocks();
  return { code, stdout, stderr };
};

describe('the revoker program', () => {
  it('lists a DLQ through AWS_ENDPOINT_URL_SQS, taking the region from the queue URL', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    await deadLetter(fixture, dlqUrl, requestBody('evt-1'));

    // Act
    const run = await revoker(['dlq', 'list', '--dlq-url', dlqUrl, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ count: 1, messages: [{ eventId: 'evt-1' }] });
  });

  it('replays with every replay flag parsed, --endpoint-url included', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    const queueUrl = await fixture.createQueue('source');
    await deadLetter(fixture, dlqUrl, requestBody('evt-1'), {
      reason: { errorCode: 'Throttling' },
    });
    await deadLetter(fixture, dlqUrl, requestBody('evt-2'));

    // Act
    const run = await revoker(
      [
        'dlq',
        'replay',
        '--dlq-url',
        dlqUrl,
        '--queue-url',
        queueUrl,
        '--error',
        'Throttling',
        '--datashare',
        'arn:aws:redshift:',
        '--max',
        '5',
        '--rate',
        '20/s',
        '--max-replays',
        '2',
        '--reason',
        'INC-9',
        '--yes',
        '--region',
        'us-east-1',
        '--endpoint-url',
        fixture.server.address,
        '--json',
      ],
      { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:1' },
    );

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).summary).toMatchObject({ matched: 1, replayed: 1 });
    expect(inspect(fixture, queueUrl).ready).toHaveLength(1);
    expect(inspect(fixture, dlqUrl).ready).toHaveLength(1);
  });

  it('sends a file and purges by filter from the command line', async () => {
    // Prepare
    const queueUrl = await fixture.createQueue('source');
    const file = join(mkdtempSync(join(tmpdir(), 'revoker-')), 'decisions.jsonl');
    writeFileSync(file, `${requestBody('evt-1')}\n${requestBody('evt-2')}\n`);

    // Act
    const sent = await revoker(['send', '--queue-url', queueUrl, file]);
    const purged = await revoker([
      'dlq',
      'purge',
      '--dlq-url',
      queueUrl,
      '--event-id',
      'evt-2',
      '--yes',
    ]);

    // Assess
    expect(sent).toMatchObject({ code: 0, stdout: 'lines 2, sent 2, failed 0\n' });
    expect(purged.code).toBe(0);
    expect(inspect(fixture, queueUrl).ready.map((m) => m.body)).toEqual([requestBody('evt-1')]);
  });

  it.each([
    [
      ['dlq', 'list', '--dlq-url', 'x', '--max', '0'],
      "--max must be a whole number from 1, '0' given",
    ],
    [
      ['dlq', 'replay', '--dlq-url', 'x', '--queue-url', 'y', '--rate', 'fast'],
      '--rate must be a number of messages per second',
    ],
    [
      ['dlq', 'replay', '--dlq-url', 'x', '--queue-url', 'x'],
      '--queue-url must differ from --dlq-url',
    ],
    [['dlq', 'purge', '--dlq-url', 'x', '--error', ' '], "--error must not be empty, '' given"],
    [
      ['dlq', 'redrive', '--dlq-url', 'x', '--rate', '501'],
      "--rate must be a whole number from 1 to 500, '501' given",
    ],
    [
      ['send', '--queue-url', 'x', '/nonexistent/file.jsonl'],
      'cannot read /nonexistent/file.jsonl: ENOENT',
    ],
    [
      ['poll', '--queue-url', 'x'],
      'the worker cannot start: Invalid configuration: AWS_REGION: expected',
    ],
  ])('refuses %j with exit code 2 and one line', async (args, line) => {
    // Act
    const run = await revoker(args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(line);
  });

  it('prints help with examples (exit 0); no command or an unknown one is a usage error (exit 2)', async () => {
    // Act
    const help = await revoker(['dlq', 'replay', '--help']);
    const none = await revoker([]);
    const unknown = await revoker(['dlq', 'lsit']);

    // Assess
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(
      'Usage: revoker dlq replay (--stage NAME | --dlq-url URL --queue-url URL)',
    );
    expect(help.stdout).toContain('Examples:');
    expect(none.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('(Did you mean list?)');
  });
});
