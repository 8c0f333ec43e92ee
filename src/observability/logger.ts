import { type Logger, pino } from 'pino';

/**
 * JSON logs to stdout, written synchronously: Lambda freezes the process between invocations,
 * and asynchronous writes (or pino transports, which run in worker threads) lose lines then.
 * `redact` paths are fixed here, never taken from input.
 */
export const createLogger = (
  level: string,
  destination: pino.DestinationStream = pino.destination({ sync: true }),
): Logger =>
  pino(
    {
      level,
      base: { service: 'datashare-revoker' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['body', '*.body', 'record.body'], censor: '[redacted]' },
    },
    destination,
  );
