import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * How `revoker --stage local` in another terminal finds a running local stack: `npm start --
 * --keep-running` publishes the stack's environment (endpoints, dummy credentials) in a file of
 * the temp directory while it runs, and the CLI reads it. The ports are ephemeral, so nothing
 * else could tell the CLI where the emulators are.
 */
export const LOCAL_STAGE_FILE = join(tmpdir(), 'datashare-revoker-local-stage.json');

interface LocalStageFile {
  pid: number;
  env: Record<string, string>;
}

/**
 * Publishes the local stack's environment for `revoker --stage local`; returns the removal
 * (the stack's own stop does not know about the file).
 */
export const publishLocalStage = (
  env: Readonly<Record<string, string>>,
  file: string = LOCAL_STAGE_FILE,
): (() => void) => {
  const content: LocalStageFile = { pid: process.pid, env: { ...env } };
  writeFileSync(file, JSON.stringify(content, null, 2), { mode: 0o600 });
  return () => rmSync(file, { force: true });
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else; ESRCH: gone.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * The environment of the running local stack, or undefined when none is running (no file, an
 * unreadable one, or one left by a process that is gone).
 */
export const readLocalStage = (
  file: string = LOCAL_STAGE_FILE,
): Record<string, string> | undefined => {
  let content: LocalStageFile;
  try {
    content = JSON.parse(readFileSync(file, 'utf8')) as LocalStageFile;
  } catch {
    return undefined;
  }
  if (typeof content?.pid !== 'number' || typeof content.env !== 'object' || !alive(content.pid)) {
    return undefined;
  }
  return content.env;
};
