import { Presets, SingleBar } from 'cli-progress';

/** Where the run stands; read about once a second. */
export interface ProgressSnapshot {
  elapsedMs: number;
  /** 1-based wave being sent or drained, and how many there are. */
  wave: number;
  waves: number;
  sent: number;
  total: number;
  /** Received by a poller and not yet deleted or returned. */
  inFlight: number;
  /** Deleted from the source queue by the mapping (the handler did not report them). */
  acknowledged: number;
  /** In the DLQ: copied there by the worker, or moved there by SQS's redrive. */
  deadLettered: number;
  redshiftCalls: number;
  redshiftThrottled: number;
  auditEvents: number;
}

export interface ProgressReporter {
  /** Starts reporting `read()` until `stop()`. */
  start(read: () => ProgressSnapshot): void;
  /** A one-off line (ignored while a bar is drawn: it would break the bar). */
  note(text: string): void;
  /** Reports once more and stops. */
  stop(): void;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** The progress line: `[  2.0s] wave 1/2 · sent 24/31 · in flight 4 · acknowledged 20 · ...`. */
export const progressLine = (s: ProgressSnapshot): string =>
  [
    `[${seconds(s.elapsedMs).padStart(6)}] wave ${s.wave}/${s.waves}`,
    `sent ${s.sent}/${s.total}`,
    `in flight ${s.inFlight}`,
    `acknowledged ${s.acknowledged}`,
    `dead-lettered ${s.deadLettered}`,
    `Redshift calls ${s.redshiftCalls} (${s.redshiftThrottled} throttled)`,
    `audit events ${s.auditEvents}`,
  ].join(' · ');

/** A line on `write` every `intervalMs` (for logs, CI and pipes). */
export const lineProgress = (
  write: (text: string) => void,
  intervalMs = 1000,
): ProgressReporter => {
  let timer: NodeJS.Timeout | undefined;
  let read: (() => ProgressSnapshot) | undefined;
  const report = () => {
    if (read) write(`${progressLine(read())}\n`);
  };
  return {
    start(reader) {
      read = reader;
      timer = setInterval(report, intervalMs);
      // Progress must never keep the process alive by itself.
      timer.unref();
    },
    note: (text) => write(`${text}\n`),
    stop() {
      clearInterval(timer);
      timer = undefined;
      report();
      read = undefined;
    },
  };
};

/** A cli-progress bar of acknowledged messages, redrawn in place (for a terminal). */
export const barProgress = (stream: NodeJS.WritableStream, intervalMs = 200): ProgressReporter => {
  const bar = new SingleBar(
    {
      stream,
      format:
        'wave {wave}/{waves} {bar} {value}/{total} acknowledged · in flight {inFlight} · DLQ {deadLettered} · Redshift {redshiftCalls} ({redshiftThrottled} throttled) · audit {auditEvents} · {duration}s',
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    Presets.shades_classic,
  );
  let timer: NodeJS.Timeout | undefined;
  let read: (() => ProgressSnapshot) | undefined;
  const payload = (s: ProgressSnapshot) => ({ ...s, duration: (s.elapsedMs / 1000).toFixed(1) });
  const update = () => {
    if (!read) return;
    const s = read();
    bar.setTotal(s.total);
    bar.update(s.acknowledged, payload(s));
  };
  return {
    start(reader) {
      read = reader;
      const s = reader();
      bar.start(s.total, s.acknowledged, payload(s));
      timer = setInterval(update, intervalMs);
      timer.unref();
    },
    note: () => {},
    stop() {
      clearInterval(timer);
      timer = undefined;
      update();
      bar.stop();
      read = undefined;
    },
  };
};
