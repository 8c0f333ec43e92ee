/**
 * One worker container in a process of its own, so that its RSS is its own (the benchmark's
 * process also hosts the emulators, whose tables grow with every message). Started by
 * `bench/scenarios/memory.ts` with a JSON job in argv[2]; invokes the handler batch after batch,
 * one at a time as Lambda does, and prints one JSON line with the memory it saw. Each batch holds
 * one real disassociation and dry runs (see below).
 */
import { performance } from 'node:perf_hooks';
import type { SQSEvent } from 'aws-lambda';
import { createLambdaContext } from '../../src/local/esm/context.js';
import { createProbe, createWorkerContainer } from '../containers.js';
import { seededRandom } from '../random.js';
import { makeTargets, requestBody, sqsRecord } from '../workload.js';

/** What the parent asks of the container process. */
export interface MemoryJob {
  env: Record<string, string>;
  messages: number;
  /** RSS is recorded when the count of messages processed reaches each of these. */
  checkpoints: number[];
  batchSize: number;
  functionTimeoutMs: number;
  seed: number;
  label: string;
  queueArn: string;
  accountId: string;
}

/** One checkpoint: memory after `messages` messages, before and after a full GC. */
export interface MemoryCheckpoint {
  messages: number;
  rssMiB: number;
  heapUsedMiB: number;
  rssAfterGcMiB: number;
  heapUsedAfterGcMiB: number;
}

/** The line the process prints. */
export interface MemoryReport {
  checkpoints: MemoryCheckpoint[];
  /** Highest RSS sampled after each batch. */
  peakRssMiB: number;
  messages: number;
  itemFailures: number;
  cpuMsPerMessage: number;
  wallSeconds: number;
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

const run = async (job: MemoryJob): Promise<MemoryReport> => {
  Object.assign(process.env, job.env);
  const container = await createWorkerContainer(0, job.env, createProbe());
  const targets = makeTargets(job.messages, job.label, seededRandom(job.seed));
  const issuedAt = new Date().toISOString();
  const gc = (globalThis as { gc?: () => void }).gc;
  const checkpoints: MemoryCheckpoint[] = [];
  let peak = 0;
  let failures = 0;
  const cpuAtStart = process.cpuUsage();
  const started = performance.now();
  for (let done = 0; done < job.messages; ) {
    const batch = targets.slice(done, done + job.batchSize);
    // One real disassociation per batch, the rest dry runs: every path but the call itself. With
    // ten real calls per batch the container's adaptive rate (10 calls/s at the start, +0.5/s
    // per second) would make 20,000 messages take about five minutes.
    const event: SQSEvent = {
      Records: batch.map((target, i) => {
        const body = requestBody(`memory/${done + i}`, target, issuedAt);
        return sqsRecord(
          i === 0 ? body : JSON.stringify({ ...JSON.parse(body), dryRun: true }),
          job.queueArn,
        );
      }),
    };
    const context = createLambdaContext(
      {
        functionName: 'datashare-revoker-bench',
        partition: 'aws',
        region: 'us-east-1',
        accountId: job.accountId,
        memoryLimitInMB: 512,
      },
      'bench/[$LATEST]memory',
      Date.now() + job.functionTimeoutMs,
    );
    const response = await container.handler(event, context);
    failures += response.batchItemFailures.length;
    done += batch.length;
    const usage = process.memoryUsage();
    peak = Math.max(peak, usage.rss);
    if (job.checkpoints.includes(done)) {
      gc?.();
      const after = process.memoryUsage();
      checkpoints.push({
        messages: done,
        rssMiB: mib(usage.rss),
        heapUsedMiB: mib(usage.heapUsed),
        rssAfterGcMiB: mib(after.rss),
        heapUsedAfterGcMiB: mib(after.heapUsed),
      });
    }
  }
  const cpu = process.cpuUsage(cpuAtStart);
  container.close();
  return {
    checkpoints,
    peakRssMiB: mib(peak),
    messages: job.messages,
    itemFailures: failures,
    cpuMsPerMessage: Math.round(((cpu.user + cpu.system) / 1000 / job.messages) * 1000) / 1000,
    wallSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
};

const job = JSON.parse(process.argv[2] ?? '{}') as MemoryJob;
run(job).then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
    process.exit(1);
  },
);
