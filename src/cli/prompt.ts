import { createInterface } from 'node:readline/promises';
import type { Confirm } from './context.js';
import { ConfirmationRefusedError } from './errors.js';

/**
 * Asks on the terminal. When stdin is not a terminal nobody can answer, so it refuses with a
 * message that names the flag to use in scripts, instead of waiting or assuming yes.
 */
export const terminalConfirm =
  (input: NodeJS.ReadStream, output: NodeJS.WritableStream): Confirm =>
  async (question) => {
    if (!input.isTTY) {
      throw new ConfirmationRefusedError(
        `${question} — cannot ask: stdin is not a terminal; pass --yes to confirm, or --dry-run to only look`,
      );
    }
    const readline = createInterface({ input, output });
    try {
      const answer = await new Promise<string>((resolve) => {
        // On a terminal, readline takes Ctrl-C itself (no process SIGINT): read it as "no".
        readline.once('SIGINT', () => resolve(''));
        readline.question(`${question} [y/N] `).then(resolve, () => resolve(''));
      });
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      readline.close();
    }
  };
