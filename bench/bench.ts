import { type ColdStartResult, runColdStart } from './cold-start/scenario.js';
import { type GitInfo, gitInfo, type MachineInfo, machineInfo } from './machine.js';
import type { Progress } from './progress.js';
import { type LatencyResult, runLatency } from './scenarios/latency.js';
import { type MemoryResult, runMemory } from './scenarios/memory.js';
import { runStorm, type StormResult } from './scenarios/storm.js';
import {
  runStormMultiAccount,
  type StormMultiAccountResult,
} from './scenarios/storm-multi-account.js';
import { runThroughput, type ThroughputResult } from './scenarios/throughput.js';
import { type BenchSettings, FULL, QUICK, SCENARIOS, type ScenarioName } from './settings.js';
import { type TableRow, tableRows } from './table.js';
import { checkTargets, type TargetCheck } from './targets.js';

export interface BenchOptions {
  /** Scenarios to run, in the order of `SCENARIOS` (default: all). */
  only?: readonly ScenarioName[];
  /** The smoke sizes. */
  quick?: boolean;
  /** The storms on one thread: emulators, event source mappings and containers together. */
  singleThread?: boolean;
  /** Only the worker's side where a scenario has two (storms, throughput). */
  workerOnly?: boolean;
  /** Extra environment for the storms, latency and throughput (recorded in their settings). */
  workerEnv?: Readonly<Record<string, string>>;
  /**
   * The worker with the deployment's defaults (`--defaults`): no hub mode, breaker or fence,
   * rather than issue 12's "hub mode and the guardrails on" (`GUARDED_WORKER`).
   */
  defaults?: boolean;
  /** The latency scenario's DynamoDB latency per request (`--store-latency-ms`); default 0. */
  storeLatencyMs?: number;
  progress: Progress;
  /** Overrides of the chosen sizes (tests). */
  settings?: BenchSettings;
}

/** What `npm run bench` writes to results.json. */
export interface BenchResults {
  schemaVersion: 1;
  generatedAt: string;
  mode: 'full' | 'quick';
  /** The storms ran on one thread (`--single-thread`). */
  singleThread: boolean;
  /** The worker's configuration in every scenario (`{}`: the deployment's defaults). */
  workerConfiguration: Readonly<Record<string, string>>;
  scenarios: ScenarioName[];
  durationSeconds: number;
  node: string;
  machine: MachineInfo;
  /** `sourceChanges` when the run started, and at its end (src/ changed during the run if they differ). */
  git: GitInfo & { sourceChangesAtEnd: string[] };
  storm?: StormResult;
  stormMultiAccount?: StormMultiAccountResult;
  latency?: LatencyResult;
  coldStart?: ColdStartResult;
  throughput?: ThroughputResult;
  memory?: MemoryResult;
  targets: TargetCheck[];
  table: TableRow[];
}

/** Runs the chosen scenarios one after the other, each side by side with the baseline. */
export const runBench = async (options: BenchOptions): Promise<BenchResults> => {
  const started = Date.now();
  const base = options.settings ?? (options.quick ? QUICK : FULL);
  const extra = options.workerEnv ?? {};
  const configured = <T extends { workerConfiguration: Readonly<Record<string, string>> }>(
    scenario: T,
  ): T => (options.defaults ? { ...scenario, workerConfiguration: {} } : scenario);
  const chosen: BenchSettings = {
    storm: configured({ ...base.storm, workerEnv: { ...base.storm.workerEnv, ...extra } }),
    stormMultiAccount: configured({
      ...base.stormMultiAccount,
      workerEnv: { ...base.stormMultiAccount.workerEnv, ...extra },
    }),
    latency: configured({
      ...base.latency,
      workerEnv: { ...base.latency.workerEnv, ...extra },
      ...(options.storeLatencyMs !== undefined && { storeLatencyMs: options.storeLatencyMs }),
    }),
    coldStart: configured(base.coldStart),
    throughput: configured({
      ...base.throughput,
      workerEnv: { ...base.throughput.workerEnv, ...extra },
    }),
    memory: configured(base.memory),
  };
  const settings: BenchSettings = options.singleThread
    ? {
        ...chosen,
        storm: { ...chosen.storm, singleThread: true },
        stormMultiAccount: { ...chosen.stormMultiAccount, singleThread: true },
      }
    : chosen;
  const scenarios = SCENARIOS.filter((name) => !options.only || options.only.includes(name));
  const machine = machineInfo();
  const git = gitInfo();
  const { progress } = options;
  const sides = options.workerOnly ? (['worker'] as const) : (['worker', 'baseline'] as const);
  const results: Pick<
    BenchResults,
    'storm' | 'stormMultiAccount' | 'latency' | 'coldStart' | 'throughput' | 'memory'
  > = {};
  // The cold start bundles src/ from disk while the others run what this process imported at
  // start: bundling first keeps every scenario on the same sources even if src/ changes meanwhile.
  const executionOrder = [...scenarios].sort(
    (a, b) => Number(b === 'cold-start') - Number(a === 'cold-start'),
  );
  for (const name of executionOrder) {
    switch (name) {
      case 'storm':
        results.storm = await runStorm(settings.storm, progress, sides);
        break;
      case 'stormMultiAccount':
        results.stormMultiAccount = await runStormMultiAccount(
          settings.stormMultiAccount,
          progress,
          sides,
        );
        break;
      case 'latency':
        results.latency = await runLatency(settings.latency, progress);
        break;
      case 'cold-start':
        results.coldStart = await runColdStart(settings.coldStart, progress);
        break;
      case 'throughput':
        results.throughput = await runThroughput(settings.throughput, progress, sides);
        break;
      case 'memory':
        results.memory = await runMemory(settings.memory, progress);
        break;
    }
  }
  const targets = checkTargets(results);
  return {
    schemaVersion: 1,
    generatedAt: new Date(started).toISOString(),
    mode: options.quick ? 'quick' : 'full',
    singleThread: options.singleThread === true,
    workerConfiguration: settings.storm.workerConfiguration,
    scenarios,
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    node: process.version,
    machine,
    git: { ...git, sourceChangesAtEnd: gitInfo().sourceChanges },
    ...results,
    targets,
    table: tableRows(results, targets),
  };
};
