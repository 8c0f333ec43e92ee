import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';

/** A pino destination that keeps the lines written to it, parsed. */
const capture = () => {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write(chunk: string) {
      for (const line of chunk.split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    },
  };
};

describe('createLogger', () => {
  it('writes JSON lines with the level as a label, the service and an ISO time', () => {
    // Prepare
    const destination = capture();
    const logger = createLogger('info', destination);
    // Act
    logger.info({ eventId: 'evt-1' }, 'revoked');
    // Assess
    expect(destination.lines).toHaveLength(1);
    expect(destination.lines[0]).toMatchObject({
      level: 'info',
      service: 'datashare-revoker',
      eventId: 'evt-1',
      msg: 'revoked',
    });
    expect(String(destination.lines[0]?.time)).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/,
    );
  });

  it('labels warnings and errors by name', () => {
    const destination = capture();
    const logger = createLogger('info', destination);
    logger.warn('careful');
    logger.error('broken');
    expect(destination.lines.map((line) => line.level)).toEqual(['warn', 'error']);
  });

  it('drops lines below the configured level', () => {
    const destination = capture();
    const logger = createLogger('warn', destination);
    logger.info('quiet');
    logger.debug('quieter');
    logger.warn('loud');
    expect(destination.lines.map((line) => line.msg)).toEqual(['loud']);
  });

  it('redacts a message body, at the top level, one level down and in a record', () => {
    // Prepare
    const destination = capture();
    const logger = createLogger('info', destination);
    // Act
    logger.info({ body: 'secret-1', message: { body: 'secret-2', id: 'm-1' } }, 'one');
    logger.info({ record: { body: 'secret-3', messageId: 'm-2' } }, 'two');
    // Assess
    expect(destination.lines[0]).toMatchObject({
      body: '[redacted]',
      message: { body: '[redacted]', id: 'm-1' },
    });
    expect(destination.lines[1]).toMatchObject({
      record: { body: '[redacted]', messageId: 'm-2' },
    });
    expect(JSON.stringify(destination.lines)).not.toContain('secret');
  });

  it('redacts the body in the bindings of a child logger', () => {
    const destination = capture();
    const child = createLogger('info', destination).child({
      record: { body: 'secret', messageId: 'm' },
    });
    child.info('hello');
    expect(destination.lines[0]?.record).toEqual({ body: '[redacted]', messageId: 'm' });
  });
});
