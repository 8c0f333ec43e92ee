import {
  type AdminRoutes,
  isAdminRequest,
  serveAdminRoute,
  startLocalHttpServer,
} from '../http.js';
import { randomSeed } from '../random.js';
import { redshiftAdminRoutes } from './admin-routes.js';
import { type CallCounts, CallLog, type CallStats, type RecordedCall, tally } from './call-log.js';
import { targetFromConsumerKey } from './consumer-target.js';
import { DataShareStore } from './datashare-store.js';
import { FaultPlan, type RedshiftFaults, type RedshiftFaultsPatch } from './faults.js';
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
}

/** Narrows the recorded calls; every given field must match. */
export interface CallFilter {
  operation?: string;
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
  stats(): CallStats;
  /** Counts of the calls that match `filter`, e.g. Disassociate calls for one target. */
  countCalls(filter: CallFilter): CallCounts;
  datashares(): DataShareState[];
  /** The datashare's associations (all statuses); empty when the ARN is unknown. */
  associations(dataShareArn: string): DataShareAssociationState[];
  /** Whether the consumer (namespace ARN, `region:<r>` or `account:<id>`) is ACTIVE-associated. */
  isAssociated(dataShareArn: string, consumer: string): boolean;
  /** Back to the start: start seed, start faults, PRNG at its seed, calls cleared. */
  reset(): void;
  /** Stops the server and ends hung requests. */
  stop(): Promise<void>;
}

const matches = (call: RecordedCall, filter: CallFilter): boolean =>
  (filter.operation === undefined || call.operation === filter.operation) &&
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
  const queryHandler = createQueryHandler({ store, faults, log });
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
    randomSeed: randomSeedValue,
    get faults() {
      return faults.current;
    },
    get calls() {
      return log.calls;
    },
    setFaults: (patch) => faults.update(patch),
    seed: (data) => store.load(parseSeedFile(data)),
    stats: () => log.stats(),
    countCalls: (filter) => tally(log.calls.filter((call) => matches(call, filter))),
    datashares: () => store.list(),
    associations: (dataShareArn) => store.get(dataShareArn)?.associations ?? [],
    isAssociated: (dataShareArn, consumer) =>
      store.isAssociated(dataShareArn, targetFromConsumerKey(consumer)),
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
