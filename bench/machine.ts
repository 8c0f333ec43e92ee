import { execFileSync } from 'node:child_process';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  /** 1-minute load average when the run started (a shared machine drifts). */
  loadAverage: number;
}

export interface GitInfo {
  commit: string | null;
  /** Uncommitted changes to tracked files, or untracked files, under src/ at run time. */
  sourceChanges: string[];
}

export const machineInfo = (): MachineInfo => {
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
};

const git = (args: string[]): string | null => {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
};

/** The commit measured, and whether the worker's sources differed from it. */
export const gitInfo = (): GitInfo => ({
  commit: git(['rev-parse', 'HEAD'])?.trim() ?? null,
  sourceChanges: (git(['status', '--porcelain', '--', 'src']) ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0),
});
