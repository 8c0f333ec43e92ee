import type { CallStats, RecordedCall } from '../../src/local/redshift-emulator/index.js';
import type { LocalStackOptions } from '../../src/local/stack.js';
import type { BenchTarget } from '../workload.js';

/** What the host thread is started with: `startLocalStack` options that survive a structured clone. */
export type StackHostOptions = Omit<LocalStackOptions, 'datashares'> & {
  datashares?: Exclude<LocalStackOptions['datashares'], string>;
};

/** What the host reports once its stack runs. */
export interface StackHostInfo {
  region: string;
  /** The worker's own account (see LocalStack.accountId). */
  accountId: string;
  env: Record<string, string>;
  queues: { source: { url: string; arn: string }; deadLetter: { url: string; arn: string } };
  auditEventBus: string;
}

/** An audit event as the benchmarks read it back. */
export interface AuditRecord {
  eventId: string | null;
  outcome: string | null;
  /** 1-based PutEvents call that carried it. */
  call: number;
  /** When the emulator accepted it (epoch ms). */
  at: number;
}

/** The calls the host answers (method name → argument → result). */
export interface StackHostMethods {
  redshiftCalls: { args: undefined; result: RecordedCall[] };
  redshiftStats: { args: undefined; result: CallStats };
  /** How many of these targets are still ACTIVE-associated. */
  associatedCount: { args: BenchTarget[]; result: number };
  auditEvents: { args: undefined; result: AuditRecord[] };
  auditEventCount: { args: undefined; result: number };
  /** STS `AssumeRole` calls that issued credentials, per role ARN asked about. */
  assumeRoleCounts: { args: string[]; result: Record<string, number> };
  /** Calls received so far: Redshift (all operations) and EventBridge PutEvents. */
  callCounts: { args: undefined; result: { redshift: number; eventBridge: number } };
  /** DynamoDB requests received so far (at the proxy in front of dynalite), by operation. */
  dynamoDbRequests: { args: undefined; result: Record<string, number> };
  stop: { args: undefined; result: undefined };
}
export type StackHostMethod = keyof StackHostMethods;

export type HostRequest = { id: number; method: StackHostMethod; args: unknown };
export type HostResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string };
export type HostReady = { type: 'ready'; info: StackHostInfo };
