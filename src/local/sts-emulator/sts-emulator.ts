import type { CallerDirectory } from '../caller-identity.js';
import { DEFAULT_HUB_ROLE_NAME } from '../caller-identity.js';
import {
  type AdminRoutes,
  isAdminRequest,
  serveAdminRoute,
  startLocalHttpServer,
} from '../http.js';
import { randomSeed } from '../random.js';
import {
  type AccountsSeed,
  loadAccountsSeed,
  type ParsedAccountsSeed,
  parseAccountsSeed,
} from './accounts-seed.js';
import { stsAdminRoutes } from './admin-routes.js';
import {
  type RecordedStsCall,
  type StsCallCounts,
  StsCallLog,
  type StsCallStats,
  tallySts,
} from './call-log.js';
import { CredentialStore, type IssuedSession } from './credential-store.js';
import { StsFaultPlan, type StsFaults, type StsFaultsPatch } from './faults.js';
import { createStsQueryHandler } from './query-handler.js';
import { RoleDirectory, type RoleState } from './roles.js';

/** The worker's own account when none is given (AWS's documentation example id). */
export const DEFAULT_HUB_ACCOUNT_ID = '111122223333';

export interface StsEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** PRNG seed for random faults; a random one is chosen (and exposed) when absent. */
  seed?: number;
  /** The accounts and their roles: a seed object, or the path of a seed JSON file. */
  accounts?: AccountsSeed | string;
  faults?: StsFaultsPatch;
  /** The worker's own account: the static local key signs as it (default 111122223333). */
  hubAccountId?: string;
  /** The worker's own role in it (default `datashare-revoker`). */
  hubRoleName?: string;
}

/** Narrows the recorded calls; every given field must match. */
export interface StsCallFilter {
  operation?: string;
  roleArn?: string;
  callerAccountId?: string;
}

/** A running STS emulator. */
export interface StsEmulator {
  /** `http://127.0.0.1:PORT`: give it to the SDK as `endpoint` or `AWS_ENDPOINT_URL_STS`. */
  readonly endpoint: string;
  readonly port: number;
  readonly hubAccountId: string;
  readonly randomSeed: number;
  readonly faults: StsFaults;
  /** Every API call received, in arrival order. */
  readonly calls: readonly RecordedStsCall[];
  /**
   * Resolves a SigV4 access key to its caller: give it to the Redshift emulator (`callers`) so
   * that it acts in the account of the credentials this emulator issued.
   */
  readonly callers: CallerDirectory;
  /** Changes faults while running; a given `failNext` replaces the list. */
  setFaults(patch: StsFaultsPatch): StsFaults;
  /** Replaces the accounts and roles (issued credentials stay valid until they expire). */
  seed(accounts: AccountsSeed): void;
  roles(): RoleState[];
  /** Every credential issued (secrets included: this is a local emulator). */
  sessions(): IssuedSession[];
  /** Expires the sessions of `roleArn` (all when absent) now; returns how many were live. */
  expireCredentials(roleArn?: string): number;
  stats(): StsCallStats;
  countCalls(filter: StsCallFilter): StsCallCounts;
  /** `AssumeRole` calls for a role ARN (all outcomes): what credential caching is judged by. */
  assumeRoleCount(roleArn: string): number;
  /** Back to the start: start seed and faults, PRNG at its seed, calls and credentials cleared. */
  reset(): void;
  stop(): Promise<void>;
}

const matches = (call: RecordedStsCall, filter: StsCallFilter): boolean =>
  (filter.operation === undefined || call.operation === filter.operation) &&
  (filter.roleArn === undefined || call.roleArn === filter.roleArn) &&
  (filter.callerAccountId === undefined || call.callerAccountId === filter.callerAccountId);

/**
 * Starts an STS emulator speaking awsQuery (`AssumeRole`, `GetCallerIdentity`) on 127.0.0.1.
 * It issues temporary credentials for the seeded roles, refuses what AWS refuses, expires what
 * it issued, and injects faults. The real `@aws-sdk/client-sts` works against it.
 *
 * @example
 * const sts = await startStsEmulator({ accounts: 'examples/accounts.json', seed: 7 });
 * const client = new STSClient({ endpoint: sts.endpoint, region: 'us-east-1' });
 * // ...
 * await sts.stop();
 *
 * @throws {TypeError} when the seed or the faults are invalid.
 */
export const startStsEmulator = async (options: StsEmulatorOptions = {}): Promise<StsEmulator> => {
  const hubAccountId = options.hubAccountId ?? DEFAULT_HUB_ACCOUNT_ID;
  const randomSeedValue = options.seed ?? randomSeed();
  const startFaults = options.faults ?? {};
  const startSeed: ParsedAccountsSeed =
    typeof options.accounts === 'string'
      ? await loadAccountsSeed(options.accounts)
      : parseAccountsSeed(options.accounts ?? { accounts: { [hubAccountId]: { roles: [] } } });

  const roles = new RoleDirectory(hubAccountId);
  roles.load(startSeed);
  const credentials = new CredentialStore(
    hubAccountId,
    options.hubRoleName ?? DEFAULT_HUB_ROLE_NAME,
  );
  const faults = new StsFaultPlan(startFaults, randomSeedValue);
  const log = new StsCallLog();
  const queryHandler = createStsQueryHandler({ roles, credentials, faults, log });
  let routes: AdminRoutes = {};
  const server = await startLocalHttpServer(
    (request, response, signal) =>
      isAdminRequest(request)
        ? serveAdminRoute(request, response, routes)
        : queryHandler(request, response, signal),
    options.port ?? 0,
  );

  const emulator: StsEmulator = {
    endpoint: server.endpoint,
    port: server.port,
    hubAccountId,
    randomSeed: randomSeedValue,
    get faults() {
      return faults.current;
    },
    get calls() {
      return log.calls;
    },
    callers: credentials,
    setFaults: (patch) => faults.update(patch),
    seed: (accounts) => roles.load(parseAccountsSeed(accounts)),
    roles: () => roles.list(),
    sessions: () => credentials.list(),
    expireCredentials: (roleArn) => credentials.expire(roleArn),
    stats: () => log.stats(),
    countCalls: (filter) => tallySts(log.calls.filter((call) => matches(call, filter))),
    assumeRoleCount: (roleArn) =>
      log.calls.filter((call) => call.operation === 'AssumeRole' && call.roleArn === roleArn)
        .length,
    reset: () => {
      roles.load(startSeed);
      faults.reset(startFaults);
      credentials.clear();
      log.clear();
    },
    stop: () => server.close(),
  };
  routes = stsAdminRoutes(emulator);
  return emulator;
};
