import type { ColdStartResult } from './cold-start/scenario.js';
import type { LatencyResult } from './scenarios/latency.js';
import type { MemoryResult } from './scenarios/memory.js';
import type { StormResult } from './scenarios/storm.js';
import type { StormMultiAccountResult } from './scenarios/storm-multi-account.js';
import type { ThroughputResult } from './scenarios/throughput.js';

/** One target of the issue, checked against the worker's figure. */
export interface TargetCheck {
  id: string;
  description: string;
  /** The worker's figure (null when it could not be measured, e.g. the storm did not drain). */
  value: number | boolean | null;
  /** The bound, in words: "≤ 1.25". */
  limit: string;
  pass: boolean;
}

const atMost = (id: string, description: string, value: number | null, limit: number) => ({
  id,
  description,
  value,
  limit: `≤ ${limit}`,
  pass: value !== null && value <= limit,
});

/**
 * The targets whose scenario ran: issue 12's (issue 10's for stormMultiAccount). They are
 * reported, never enforced by `npm test`.
 */
export const checkTargets = (results: {
  storm?: StormResult;
  stormMultiAccount?: StormMultiAccountResult;
  latency?: LatencyResult;
  coldStart?: ColdStartResult;
  throughput?: ThroughputResult;
  memory?: MemoryResult;
}): TargetCheck[] => {
  const checks: TargetCheck[] = [];
  const storm = results.storm?.worker;
  if (storm) {
    checks.push(
      atMost('storm.drainRatio', 'storm: drain time ÷ (targets ÷ R)', storm.drainRatio, 1.15),
      atMost(
        'storm.amplification',
        'storm: disassociate calls ÷ targets',
        storm.amplification,
        1.1,
      ),
      {
        id: 'storm.auditExactlyOnce',
        description: 'storm: every eventId audited exactly once',
        value: storm.audit.exactlyOnce,
        limit: 'true',
        pass: storm.audit.exactlyOnce,
      },
    );
  }
  if (storm?.storeRequests)
    checks.push(
      atMost(
        'storm.storeRequests',
        'storm: DynamoDB requests per message (first delivery)',
        storm.storeRequests.dynamoDbPerMessage,
        1.5,
      ),
    );
  const multi = results.stormMultiAccount?.worker;
  if (multi?.storeRequests)
    checks.push(
      atMost(
        'stormMultiAccount.storeRequests',
        'stormMultiAccount: DynamoDB requests per message (first delivery)',
        multi.storeRequests.dynamoDbPerMessage,
        1.5,
      ),
    );
  if (multi) {
    checks.push(
      atMost(
        'stormMultiAccount.drainRatio',
        "stormMultiAccount: drain time ÷ the slowest account's floor",
        multi.drainRatio,
        1.25,
      ),
      atMost(
        'stormMultiAccount.amplification',
        'stormMultiAccount: disassociate calls ÷ targets',
        multi.amplification,
        1.2,
      ),
      {
        id: 'stormMultiAccount.auditExactlyOnce',
        description: 'stormMultiAccount: every eventId audited exactly once',
        value: multi.audit.exactlyOnce,
        limit: 'true',
        pass: multi.audit.exactlyOnce,
      },
    );
  }
  const latency = results.latency?.worker;
  if (latency)
    checks.push(
      atMost('latency.ratio', 'latency: median batch ÷ Redshift latency', latency.ratio, 1.3),
    );
  const coldStart = results.coldStart;
  if (coldStart) {
    checks.push(
      atMost(
        'coldStart.init',
        'cold start: median init ÷ floor',
        coldStart.workerVsFloor.init,
        1.2,
      ),
      atMost(
        'coldStart.bundle',
        'cold start: bundle bytes ÷ floor',
        coldStart.workerVsFloor.bundle,
        1.2,
      ),
    );
  }
  const { worker: tw, baseline: tb } = results.throughput ?? {};
  if (tw && tb) {
    checks.push(
      atMost(
        'throughput.cpuPerMessage',
        "throughput: CPU ms per message ÷ the baseline's",
        Math.round((tw.cpuMsPerMessage / tb.cpuMsPerMessage) * 1000) / 1000,
        1.3,
      ),
    );
    const perCore = Math.round((tw.messagesPerCoreSecond / tb.messagesPerCoreSecond) * 1000) / 1000;
    checks.push({
      id: 'throughput.perCore',
      description: "throughput: messages per core-second ÷ the baseline's",
      value: perCore,
      limit: '≥ 0.8',
      pass: perCore >= 0.8,
    });
  }
  if (results.memory)
    checks.push(
      atMost(
        'memory.growth',
        'memory: RSS after the last checkpoint ÷ RSS after the first (after GC)',
        results.memory.worker.growth,
        1.1,
      ),
    );
  return checks;
};
