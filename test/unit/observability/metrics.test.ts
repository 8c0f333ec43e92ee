import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmfMetrics } from '../../../src/observability/metrics.js';
import { MetricName } from '../../../src/worker/ports.js';

const metricsWritingTo = (lines: string[]) =>
  new EmfMetrics({
    namespace: 'DatashareRevoker',
    dimensions: { service: 'datashare-revoker' },
    write: (line) => lines.push(line),
  });

describe('EmfMetrics', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes one line in CloudWatch Embedded Metric Format per flush', () => {
    // Prepare
    vi.useFakeTimers({ now: Date.parse('2026-11-25T09:00:00Z') });
    const lines: string[] = [];
    const metrics = metricsWritingTo(lines);
    metrics.add(MetricName.Revoked, 1);
    metrics.add(MetricName.EnforcementLatency, 1200, 'Milliseconds');
    // Act
    metrics.flush();
    // Assess
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      _aws: {
        Timestamp: Date.parse('2026-11-25T09:00:00Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'DatashareRevoker',
            Dimensions: [['service']],
            Metrics: [
              { Name: 'Revoked', Unit: 'Count' },
              { Name: 'EnforcementLatency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      service: 'datashare-revoker',
      Revoked: 1,
      EnforcementLatency: 1200,
    });
  });

  it('sums the counts added to one metric', () => {
    const lines: string[] = [];
    const metrics = metricsWritingTo(lines);
    metrics.add(MetricName.Throttles, 1);
    metrics.add(MetricName.Throttles, 2);
    metrics.add(MetricName.Throttles, 4);
    metrics.flush();
    expect(JSON.parse(lines[0] ?? '').Throttles).toBe(7);
  });

  it('keeps latencies as a list of values', () => {
    const lines: string[] = [];
    const metrics = metricsWritingTo(lines);
    for (const ms of [120, 80, 4000])
      metrics.add(MetricName.EnforcementLatency, ms, 'Milliseconds');
    metrics.flush();
    expect(JSON.parse(lines[0] ?? '').EnforcementLatency).toEqual([120, 80, 4000]);
  });

  it('keeps at most 100 latency values, the EMF limit per metric', () => {
    const lines: string[] = [];
    const metrics = metricsWritingTo(lines);
    for (let i = 0; i < 150; i += 1) metrics.add(MetricName.EnforcementLatency, i, 'Milliseconds');
    metrics.flush();
    expect(JSON.parse(lines[0] ?? '').EnforcementLatency).toHaveLength(100);
  });

  it('writes nothing when nothing was added', () => {
    const lines: string[] = [];
    metricsWritingTo(lines).flush();
    expect(lines).toEqual([]);
  });

  it('starts afresh after a flush: the next flush holds only what was added since', () => {
    // Prepare
    const lines: string[] = [];
    const metrics = metricsWritingTo(lines);
    metrics.add(MetricName.Revoked, 3);
    metrics.flush();
    // Act
    metrics.add(MetricName.Failed, 1);
    metrics.flush();
    metrics.flush();
    // Assess
    expect(lines).toHaveLength(2);
    const second = JSON.parse(lines[1] ?? '');
    expect(second.Failed).toBe(1);
    expect(second).not.toHaveProperty('Revoked');
  });

  it('writes to stdout, one line per flush, by default', () => {
    // Prepare
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const metrics = new EmfMetrics({ namespace: 'N', dimensions: { service: 's' } });
    metrics.add(MetricName.DryRun, 1);
    // Act
    metrics.flush();
    const calls = [...write.mock.calls];
    write.mockRestore();
    // Assess
    expect(calls).toHaveLength(1);
    const line = String(calls[0]?.[0]);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line).DryRun).toBe(1);
  });
});
