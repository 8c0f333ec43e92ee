/**
 * Progress on stderr, so stdout carries only the table. On a terminal one status line is
 * rewritten in place; elsewhere (CI logs, pipes) a status line is printed at most every
 * `intervalMs`, plus every step's start and end.
 */
export interface Progress {
  /** A new step begins (printed at once). */
  step(name: string): void;
  /** The current step's status, shown as it changes. */
  status(text: string): void;
  /** A finished step's summary (printed at once). */
  done(text: string): void;
}

export const silentProgress: Progress = { step: () => {}, status: () => {}, done: () => {} };

export const stderrProgress = (
  stream: NodeJS.WriteStream = process.stderr,
  intervalMs = 5000,
): Progress => {
  const started = Date.now();
  const tty = stream.isTTY === true;
  let current = '';
  let lastPrinted = 0;
  const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s`;
  const line = (text: string) => `[bench ${clock()}] ${current ? `${current}: ` : ''}${text}`;
  const clear = () => {
    if (tty) stream.write('\r\x1b[2K');
  };
  return {
    step: (name) => {
      clear();
      current = name;
      stream.write(`${line('started')}\n`);
      lastPrinted = Date.now();
    },
    status: (text) => {
      if (tty) {
        clear();
        stream.write(line(text).slice(0, Math.max(20, (stream.columns ?? 120) - 1)));
      } else if (Date.now() - lastPrinted >= intervalMs) {
        stream.write(`${line(text)}\n`);
        lastPrinted = Date.now();
      }
    },
    done: (text) => {
      clear();
      stream.write(`${line(text)}\n`);
      lastPrinted = Date.now();
    },
  };
};
