/** The console's pure pieces: percentiles, CSV fields, durations, times, stages, progress, rows. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { parseTime } from '../../src/cli/audit-log.js';
import { pageProgress } from '../../src/cli/output.js';
import { csvField } from '../../src/cli/report/csv.js';
import { decisionsOf } from '../../src/cli/report/decisions.js';
import { formatDuration, nearestRank, summarize } from '../../src/cli/report/summary.js';
import { parseStage, requireOutput, resolveStage } from '../../src/cli/stage.js';
import { publishLocalStage, readLocalStage } from '../../src/local/stage-file.js';
import { memoryOutput } from './helpers.js';

describe('the report arithmetic', () => {
  it('takes the nearest-rank percentile: an observed value, the ceil(p·n/100)-th smallest', () => {
    // Act / Assess
    expect(nearestRank([], 50)).toBeNull();
    expect(nearestRank([7], 99)).toBe(7);
    expect(nearestRank([1, 2, 3, 4], 50)).toBe(2);
    expect(nearestRank([1, 2, 3, 4], 51)).toBe(3);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0)).toBe(1);
  });

  it('quotes CSV fields as RFC 4180 says, and only those', () => {
    // Act / Assess
    expect(csvField(null)).toBe('');
    expect(csvField(12)).toBe('12');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
  });

  it('formats durations for people and keeps milliseconds exact below a second', () => {
    // Act / Assess
    expect([null, 850, 12_400, 192_000, 5_400_000].map(formatDuration)).toEqual([
      '-',
      '850 ms',
      '12.4 s',
      '3.2 min',
      '1.5 h',
    ]);
  });

  it('groups events into decisions: the last one decides, unreadable REJECTED bodies stand alone', () => {
    // Prepare
    const event = (detail: Record<string, unknown>, timestamp = 0) => ({
      timestamp,
      id: `id-${timestamp}`,
      detailType: 'Datashare Revocation Result',
      detail,
    });

    // Act
    const rows = decisionsOf([
      event({
        eventId: 'a',
        outcome: 'REVOKED',
        issuedAt: '2026-07-01T00:00:00Z',
        processedAt: '2026-07-01T00:00:02Z',
        attempts: 1,
        consumer: { region: 'eu-west-1' },
        dataShareArn: 'ds',
      }),
      event({ eventId: 'a', outcome: 'FAILED', processedAt: '2026-07-01T00:00:01Z', attempts: 2 }),
      event({ eventId: null, outcome: 'REJECTED', messageId: 'm1' }, 5),
      event({ eventId: null, outcome: 'REJECTED' }, 6),
      event({ eventId: 'b', consumer: { entireAccount: true }, dataShareArn: 'ds' }, 7),
    ]);

    // Assess
    expect(rows.find((r) => r.eventId === 'a')).toMatchObject({
      outcome: 'REVOKED',
      timeToEnforceMs: 2000,
      attempts: 3,
      auditEvents: 2,
      target: 'ds → region eu-west-1',
    });
    expect(rows.filter((r) => r.eventId === null)).toHaveLength(2);
    expect(rows.find((r) => r.eventId === 'b')).toMatchObject({
      outcome: 'UNKNOWN',
      target: 'ds → entire account',
      timeToEnforceMs: null,
    });
    expect(summarize(rows).byPolicy['(none)']?.decisions).toBe(4);
  });
});

describe('the console flags', () => {
  it('reads --since as a time with a zone, a UTC date or a duration ago', () => {
    // Prepare
    const now = Date.parse('2026-11-29T12:00:00Z');

    // Act / Assess
    expect(parseTime('--since', '30m', now)).toBe(now - 1_800_000);
    expect(parseTime('--since', '2d', now)).toBe(now - 172_800_000);
    expect(parseTime('--since', '2026-07-01', now)).toBe(Date.parse('2026-07-01T00:00:00Z'));
    expect(parseTime('--since', '2026-07-01T02:00+02:00', now)).toBe(
      Date.parse('2026-07-01T00:00:00Z'),
    );
    expect(() => parseTime('--until', '2026-07-01T02:00', now)).toThrow(
      /^--until must be an ISO-8601 time with a zone/,
    );
  });

  it('refuses a stage name that cannot be a serverless stage, naming where it came from', () => {
    // Act / Assess
    expect(parseStage('prod-eu')).toBe('prod-eu');
    expect(() => parseStage('prod eu')).toThrow(
      "--stage must be 1 to 64 letters, digits or hyphens (a serverless stage), 'prod eu' given",
    );
  });

  it('reads a stack being deleted as no stage, and an output that is missing as a one-line error', async () => {
    // Prepare
    const cloudFormation = new CloudFormationClient({ region: 'eu-west-1' });
    const mock = mockClient(cloudFormation);
    mock
      .on(DescribeStacksCommand)
      .resolvesOnce({
        Stacks: [
          {
            StackName: 'datashare-revoker-old',
            StackStatus: 'DELETE_IN_PROGRESS',
            CreationTime: new Date(),
          },
        ],
      })
      .resolves({ Stacks: [] });

    // Act
    const deleting = await resolveStage(cloudFormation, 'old', 'eu-west-1').catch(
      (e: Error) => e.message,
    );
    const empty = await resolveStage(cloudFormation, 'gone', undefined).catch(
      (e: Error) => e.message,
    );

    // Assess
    expect(deleting).toBe(
      'stack datashare-revoker-old is DELETE_IN_PROGRESS in eu-west-1 (--stage old)',
    );
    expect(empty).toBe(
      'stack datashare-revoker-gone not found in the default region (--stage gone)',
    );
    expect(() =>
      requireOutput(
        { stage: 's', stackName: 'datashare-revoker-s', outputs: {} },
        'AuditLogGroupName',
        '--log-group',
      ),
    ).toThrow(
      'stack datashare-revoker-s has no output AuditLogGroupName (needed for --log-group): redeploy the stage with the current infra/outputs.yml, or give --log-group',
    );
    mock.restore();
  });
});

describe('progress of paginated reads', () => {
  it('redraws one line on a terminal, prints lines with --progress, and stays silent otherwise', () => {
    // Prepare
    const drawn: string[] = [];
    const terminal = {
      ...memoryOutput().output,
      progressStream: {
        write: (text: string) => drawn.push(text),
      } as unknown as NodeJS.WritableStream,
    };
    const piped = memoryOutput();
    const silent = memoryOutput();

    // Act
    const onTerminal = pageProgress(terminal, 'report', false);
    onTerminal.update('10 read');
    onTerminal.done();
    const forced = pageProgress(piped.output, 'report', true);
    forced.update('10 read');
    forced.done();
    const quiet = pageProgress(silent.output, 'report', false);
    quiet.update('10 read');
    quiet.done();

    // Assess
    expect(drawn).toEqual(['\r\u001b[2Kreport: 10 read', '\n']);
    expect(piped.stderr).toEqual(['report: 10 read']);
    expect([silent.stderr, silent.stdout, piped.stdout]).toEqual([[], [], []]);
  });
});

describe('the local stage file', () => {
  it("publishes the stack's environment while it runs, and ignores a file left by a dead process", () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'revoker-stage-'));
    const file = join(dir, 'stage.json');
    const stale = join(dir, 'stale.json');
    const broken = join(dir, 'broken.json');
    writeFileSync(stale, JSON.stringify({ pid: 2 ** 22 + 12_345, env: { A: 'b' } }));
    writeFileSync(broken, '{');

    // Act
    const unpublish = publishLocalStage({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:1' }, file);
    const running = readLocalStage(file);
    unpublish();

    // Assess
    expect(running).toEqual({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:1' });
    expect(readLocalStage(file)).toBeUndefined();
    expect(readLocalStage(stale)).toBeUndefined();
    expect(readLocalStage(broken)).toBeUndefined();
  });
});
