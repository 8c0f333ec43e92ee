import { type CallerDirectory, singleAccountDirectory } from '../caller-identity.js';
import {
  type AdminRoutes,
  isAdminRequest,
  serveAdminRoute,
  startLocalHttpServer,
} from '../http.js';
import { randomSeed } from '../random.js';
import { redshiftAdminRoutes } from './admin-routes.js';
import { namespaceAccount } from './arn.js';
import { type CallCounts, CallLog, type CallStats, type RecordedCall, tally } from './call-log.js';
import { targetFromConsumerKey } from './consumer-target.js';
import { DataShareStore } from './datashare-store.js';
import type { CrossAccountAnswer } from './errors.js';
import { FaultPlan, type RedshiftFaults, type RedshiftFaultsPatch } from './faults.js';
import type { Visibility } from './operations.js';
import { createQueryHandler } from './query-handler.js';
import { loadSeedFile, type ParsedSeedFile, parseSeedFile, type SeedFile } from './seed-file.js';
import type { DataShareAssociationState, DataShareState } from './types.js';

/** The consumer account the emulator answers for, unless told otherwise (AWS's doc example id). */
export const DEFAULT_CONSUMER_ACCOUNT_ID = '111122223333';

export interface RedshiftEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** PRNG seed for random faults; a random one is chosen (and exposed) when absent. */
  seed?: number;
  /** The datashares at start: a seed object, or the path of a seed JSON file. */
  datashares?: SeedFile | string;
  faults?: RedshiftFaultsPatch;
  /**
   * The account the worker calls from: it owns `DisassociateEntireAccount`, region-wide
   * associations and the consumer view of `DescribeDataSharesForConsumer`.
   */
  consumerAccountId?: string;
  /**
   * Resolves the SigV4 access key of each call to its account and role (`sts.callers` of the STS
   * emulator). Default: every key is the `consumerAccountId`'s own (single account).
   */
  callers?: CallerDirectory;
  /**
   * `all` (default): every caller sees every association, as the single-account emulator always
   * did. `caller`: a consumer sees only its own account's associations, a producer its datashares.
   */
  visibility?: Visibility;
  /** How a namespace of another account is refused (AWS does not document it; see errors.ts). */
  crossAccountAnswer?: CrossAccountAnswer;
}

/** Narrows the recorded calls; every given field must match. */
export interface CallFilter {
  operation?: string;
  /** The account the call acted in (the caller's). */
  callerAccountId?: string;
  /** The role whose session signed the call. */
  roleArn?: string;
  dataShareArn?: string;
  /** Namespace ARN, `region:<region>` or `account:<id>`. */
  consumer?: string;
}

/** A running Redshift data-sharing emulator. */
export interface RedshiftEmulator {
  /** `http://127.0.0.1:PORT`: give it to the SDK as `endpoint` or `AWS_ENDPOINT_URL_REDSHIFT`. */
  readonly endpoint: string;
  readonly port: number;
  readonly consumerAccountId: string;
  readonly visibility: Visibility;
  readonly crossAccountAnswer: CrossAccountAnswer;
  /** The PRNG seed in use: pass it back as `seed` to replay a run. */
  readonly randomSeed: number;
  /** The current faults (`failNext` shows what is left to fire). */
  readonly faults: RedshiftFaults;
  /** Every API call received, in arrival order. */
  readonly calls: readonly RecordedCall[];
  /** Changes faults while running; a given `failNext` replaces the list. */
  setFaults(patch: RedshiftFaultsPatch): RedshiftFaults;
  /** Replaces every datashare with the seed's (`reset()` still returns to the start seed). */
  seed(data: SeedFile): void;
  /**
   * Associates a consumer (namespace ARN, `region:<r>` or `account:<id>`) with the datashare
   * again, as the consumer account's `AssociateDataShareConsumer` would, dated `at` (default now);
   * `region:<r>` is of the account `accountId` (default: ours). Returns the datashare.
   *
   * @throws {RedshiftApiError} `InvalidDataShareFault` when the ARN is unknown.
   * @throws {TypeError} for a consumer that is none of the three forms.
   */
  associate(
    dataShareArn: string,
    consumer: string,
    options?: { accountId?: string; at?: Date },
  ): DataShareState;
  stats(): CallStats;
  /** Counts of the calls that match `filter`, e.g. Disassociate calls for one target. */
  countCalls(filter: CallFilter): CallCounts;
  datashares(): DataShareState[];
  /** The datashare's associations (all statuses); empty when the ARN is unknown. */
  associations(dataShareArn: string): DataShareAssociationState[];
  /**
   * Whether the consumer (namespace ARN, `region:<r>` or `account:<id>`) is ACTIVE-associated;
   * `region:<r>` is the region-wide association of the account `accountId` (default: ours).
   */
  isAssociated(dataShareArn: string, consumer: string, accountId?: string): boolean;
  /** Back to the start: start seed, start faults, PRNG at its seed, calls cleared. */
  reset(): void;
  /** Stops the server and ends hung requests. */
  stop(): Promise<void>;
}

/** `account:<id>` names its account; a namespace ARN its own; `region:<r>` is `fallback`'s. */
const accountOfConsumerKey = (consumer: string, fallback: string): string => {
  if (consumer.startsWith('account:')) return consumer.slice('account:'.length);
  return namespaceAccount(consumer) ?? fallback;
};

const matches = (call: RecordedCall, filter: CallFilter): boolean =>
  (filter.operation === undefined || call.operation === filter.operation) &&
  (filter.callerAccountId === undefined || call.callerAccountId === filter.callerAccountId) &&
  (filter.roleArn === undefined || call.roleArn === filter.roleArn) &&
  (filter.dataShareArn === undefined || call.dataShareArn === filter.dataShareArn) &&
  (filter.consumer === undefined || call.consumer === filter.consumer);

/**
 * Starts a Redshift data-sharing emulator speaking awsQuery on 127.0.0.1, seeded with datashares
 * and with optional fault injection. The real `@aws-sdk/client-redshift` works against it.
 *
 * @example
 * const redshift = await startRedshiftEmulator({ datashares: 'examples/datashares.json', seed: 7 });
 * const client = new RedshiftClient({ endpoint: redshift.endpoint, region: 'us-east-1' });
 * // ...
 * await redshift.stop();
 *
 * @throws {TypeError} when the seed or the faults are invalid.
 */
export const startRedshiftEmulator = async (
  options: RedshiftEmulatorOptions = {},
): Promise<RedshiftEmulator> => {
  const consumerAccountId = options.consumerAccountId ?? DEFAULT_CONSUMER_ACCOUNT_ID;
  const randomSeedValue = options.seed ?? randomSeed();
  const startFaults = options.faults ?? {};
  const startSeed: ParsedSeedFile =
    typeof options.datashares === 'string'
      ? await loadSeedFile(options.datashares)
      : parseSeedFile(options.datashares ?? { datashares: [] });

  const store = new DataShareStore(consumerAccountId);
  store.load(startSeed);
  const faults = new FaultPlan(startFaults, randomSeedValue);
  const log = new CallLog();
  const visibility = options.visibility ?? 'all';
  const crossAccountAnswer = options.crossAccountAnswer ?? 'notAssociated';
  const queryHandler = createQueryHandler({
    store,
    faults,
    log,
    callers: options.callers ?? singleAccountDirectory(consumerAccountId),
    visibility,
    crossAccountAnswer,
  });
  let routes: AdminRoutes = {};
  const server = await startLocalHttpServer(
    (request, response, signal) =>
      isAdminRequest(request)
        ? serveAdminRoute(request, response, routes)
        : queryHandler(request, response, signal),
    options.port ?? 0,
  );

  const emulator: RedshiftEmulator = {
    endpoint: server.endpoint,
    port: server.port,
    consumerAccountId,
    visibility,
    crossAccountAnswer,
    randomSeed: randomSeedValue,
    get faults() {
      return faults.current;
    },
    get calls() {
      return log.calls;
    },
    setFaults: (patch) => faults.update(patch),
    seed: (data) => store.load(parseSeedFile(data)),
    associate: (dataShareArn, consumer, { accountId, at } = {}) =>
      store.associate(
        dataShareArn,
        targetFromConsumerKey(consumer),
        undefined,
        accountOfConsumerKey(consumer, accountId ?? consumerAccountId),
        at,
      ),
    stats: () => log.stats(),
    countCalls: (filter) => tally(log.calls.filter((call) => matches(call, filter))),
    datashares: () => store.list(),
    associations: (dataShareArn) => store.get(dataShareArn)?.associations ?? [],
    isAssociated: (dataShareArn, consumer, accountId) =>
      store.isAssociated(
        dataShareArn,
        targetFromConsumerKey(consumer),
        accountOfConsumerKey(consumer, accountId ?? consumerAccountId),
      ),
    reset: () => {
      store.load(startSeed);
      faults.reset(startFaults);
      log.clear();
    },
    stop: () => server.close(),
  };
  routes = redshiftAdminRoutes(emulator);
  return emulator;
};
