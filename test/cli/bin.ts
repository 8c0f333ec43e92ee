/** The real `revoker` bin (bin/revoker.js → tsx → src/cli/index.ts) as a subprocess. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'revoker.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const start = (args: string[], env: Record<string, string | undefined>): ChildProcess =>
  spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

export const finished = (child: ChildProcess): Promise<Run> => {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
};

export const revoker = (args: string[], env: Record<string, string | undefined>): Promise<Run> =>
  finished(start(args, env));

/** stderr without Node's own warnings (fauxqs' SQLite is experimental on Node 22). */
export const ourLines = (stderr: string): string[] =>
  stderr
    .split('\n')
    .filter((line) => line !== '' && !/ExperimentalWarning|--trace-warnings/.test(line));
