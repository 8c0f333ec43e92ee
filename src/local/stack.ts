import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import {
  type CloudFormationEmulator,
  startCloudFormationEmulator,
} from './cloudformation-emulator/index.js';
import { type CloudWatchEmulator, startCloudWatchEmulator } from './cloudwatch-emulator/index.js';
import { type DynamoDbEmulator, startDynamoDbEmulator } from './dynamodb-emulator/index.js';
import { DEFAULTS as MAPPING_DEFAULTS } from './esm/options.js';
import {
  type EventBridgeEmulator,
  type EventBridgeFaultsPatch,
  startEventBridgeEmulator,
} from './eventbridge-emulator/index.js';
import { type FaultProxy, type ProxyFaultsPatch, startFaultProxy } from './fault-proxy/index.js';
import {
  type LambdaEmulator,
  type LambdaFaultsPatch,
  startLambdaEmulator,
} from './lambda-emulator/index.js';
import { type LogsEmulator, startLogsEmulator } from './logs-emulator/index.js';
import {
  type CrossAccountAnswer,
  DEFAULT_CONSUMER_ACCOUNT_ID,
  type RedshiftEmulator,
  type RedshiftFaultsPatch,
  type SeedFile,
  startRedshiftEmulator,
  type Visibility,
} from './redshift-emulator/index.js';
import {
  type AccountsSeed,
  type StsEmulator,
  type StsFaultsPatch,
  startStsEmulator,
} from './sts-emulator/index.js';

/** The resource names the local stack creates (the deployed stack's names may differ). */
export const LOCAL_STACK_NAMES = {
  sourceQueue: 'revocations',
  deadLetterQueue: 'revocations-dlq',
  idempotencyTable: 'revoker-idempotency',
  auditEventBus: 'revoker-audit',
} as const;

/** The UUID of the worker's event source mapping in the local Lambda emulator. */
export const LOCAL_WORKER_MAPPING_UUID = '00000000-0000-4000-8000-0000000e5a11';
/**
 * The local stack as a stage: `revoker --stage local` reads the CloudFormation stack of this name
 * (serverless names stacks `<service>-<stage>`), whose outputs the CloudFormation emulator serves.
 */
export const LOCAL_STAGE = {
  stage: 'local',
  stackName: 'datashare-revoker-local',
  /** As infra/audit.yml names it: `/aws/events/<service>-<stage>-audit`. */
  auditLogGroup: '/aws/events/datashare-revoker-local-audit',
  /** The worker's function in the local Lambda emulator (the local mapping's default name). */
  functionName: 'datashare-revoker-local',
  /** The worker's default `AUDIT_EVENT_SOURCE`, which the audit rule matches. */
  auditEventSource: 'governance.datashare-revoker',
} as const;

/** Dummy credentials: no emulator checks signatures, but the SDK insists on having some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface LocalStackOptions {
  /** Default us-east-1. */
  region?: string;
  /** Receives before SQS moves a message to the DLQ (default 5, AWS's advice). */
  maxReceiveCount?: number;
  /** The source queue's visibility timeout (default 30). */
  visibilityTimeoutSeconds?: number;
  /** Seed of the Redshift emulator: an object or a JSON file path (default: no datashares). */
  datashares?: SeedFile | string;
  redshiftFaults?: RedshiftFaultsPatch;
  eventBridgeFaults?: EventBridgeFaultsPatch;
  /** Faults of the proxy in front of dynalite (settable later with `stack.dynamoDbProxy`). */
  dynamoDbFaults?: ProxyFaultsPatch;
  /** Faults of the proxy in front of fauxqs (settable later with `stack.sqsProxy`). */
  sqsFaults?: ProxyFaultsPatch;
  /** PRNG seed of the emulators' and the fault proxies' random faults. */
  seed?: number;
  /** The account the worker runs in (default 111122223333). */
  consumerAccountId?: string;
  /**
   * The STS emulator's accounts and their roles: an object or a JSON file path (the
   * `examples/accounts.json` shape). Default: the worker's own account alone, with no roles.
   */
  accounts?: AccountsSeed | string;
  stsFaults?: StsFaultsPatch;
  /**
   * What each account sees in Redshift's describes and answers: `caller` (its own associations)
   * or `all` (everything, the single-account view). Default `caller` when `accounts` is given,
   * else `all`, so single-account callers see what they always saw.
   */
  redshiftVisibility?: Visibility;
  /** How Redshift refuses a namespace of another account (default `notAssociated`). */
  crossAccountAnswer?: CrossAccountAnswer;
  /** Start dynalite with the idempotency table (default true). */
  withDynamo?: boolean;
  lambdaFaults?: LambdaFaultsPatch;
}

export interface LocalQueue {
  name: string;
  /** `http://127.0.0.1:PORT/000000000000/<name>`: resolvable, unlike fauxqs' own URL host. */
  url: string;
  arn: string;
}

/** A running local stack. */
export interface LocalStack {
  region: string;
  /**
   * The worker's own account (its function ARN's): consumers seeded here are its own. fauxqs
   * names every queue's account 000000000000, so event source mappings are given this one.
   */
  accountId: string;
  maxReceiveCount: number;
  /**
   * `sqs` and `dynamoDb` are the fault proxies (what the worker's `env` points at);
   * `sqsDirect` and `dynamoDbDirect` reach fauxqs and dynalite without faults.
   */
  endpoints: {
    sqs: string;
    sqsDirect: string;
    redshift: string;
    eventBridge: string;
    sts: string;
    lambda: string;
    logs: string;
    cloudWatch: string;
    cloudFormation: string;
    dynamoDb?: string;
    dynamoDbDirect?: string;
  };
  queues: { source: LocalQueue; deadLetter: LocalQueue };
  /** Absent when started `withDynamo: false`. */
  idempotencyTable?: { name: string; ttlEnabled: boolean };
  auditEventBus: { name: string; arn: string };
  fauxqs: FauxqsServer;
  /** The fault proxy in front of fauxqs: `setFaults`, `stats`. */
  sqsProxy: FaultProxy;
  /** The fault proxy in front of dynalite; absent when started `withDynamo: false`. */
  dynamoDbProxy?: FaultProxy;
  redshift: RedshiftEmulator;
  eventBridge: EventBridgeEmulator;
  /** Issues the credentials the Redshift emulator resolves to accounts and roles. */
  sts: StsEmulator;
  /** The Lambda API (event source mappings): the breaker and `revoker pause` switch the worker's. */
  lambda: LambdaEmulator;
  /**
   * The worker's own mapping in the Lambda emulator (function `datashare-revoker-local`, the local
   * mapping's default name, on the source queue). Pass `lambda.controlOf(uuid)` as the local
   * mapping's `control` so that disabling it stops the poller.
   */
  workerMapping: { uuid: string; functionName: string; functionArn: string };
  /**
   * CloudWatch Logs: the audit log group, fed by an EventBridge rule as infra/audit.yml's
   * AuditLogRule feeds the deployed one.
   */
  logs: LogsEmulator;
  /**
   * CloudWatch: the alarms of infra/alarms.yml on the queues (DLQ not empty, requests too old),
   * evaluated on request from fauxqs, and the SQS metrics they read.
   */
  cloudWatch: CloudWatchEmulator;
  /** Serves the stack `datashare-revoker-local` and its outputs (`revoker --stage local`). */
  cloudFormation: CloudFormationEmulator;
  /** The outputs `revoker --stage local` reads, as infra/outputs.yml declares them. */
  outputs: Record<string, string>;
  /** The worker's environment against this stack (see `src/config.ts`). */
  env: Record<string, string>;
  /** Stops every server; nothing is left holding the event loop. */
  stop(): Promise<void>;
}

/** Client settings for any SDK client against this stack (`endpoint` is per service). */
export const localClientConfig = (stack: Pick<LocalStack, 'region'>) => ({
  region: stack.region,
  credentials: LOCAL_CREDENTIALS,
});

/**
 * An SQS client for this stack, through the fault proxy (the worker's path). fauxqs' queue URLs
 * name the host `sqs.<region>.localhost`, which does not resolve here, so the client sends every
 * request to the endpoint (`useQueueUrlAsEndpoint: false`) and fauxqs finds the queue by the
 * URL's path. For the fault-free path, pass `{ endpoint: stack.endpoints.sqsDirect }` or use
 * `directSqsClientFor`.
 */
export const sqsClientFor = (stack: LocalStack, config: SQSClientConfig = {}): SQSClient =>
  new SQSClient({
    ...localClientConfig(stack),
    endpoint: stack.endpoints.sqs,
    useQueueUrlAsEndpoint: false,
    ...config,
  });

/**
 * An SQS client straight to fauxqs, past the fault proxy: for what is not the worker's own SQS
 * traffic — the local event source mapping (Lambda's poller, whose failures AWS retries inside
 * Lambda and the worker never sees) and tests looking at the queues.
 */
export const directSqsClientFor = (stack: LocalStack, config: SQSClientConfig = {}): SQSClient =>
  sqsClientFor(stack, { endpoint: stack.endpoints.sqsDirect, ...config });

/**
 * A DynamoDB client for this stack, through the fault proxy (pass
 * `{ endpoint: stack.endpoints.dynamoDbDirect }` for the fault-free path).
 *
 * @throws {Error} when the stack was started without DynamoDB.
 */
export const dynamoDbClientFor = (
  stack: LocalStack,
  config: DynamoDBClientConfig = {},
): DynamoDBClient => {
  if (!stack.endpoints.dynamoDb) throw new Error('the local stack was started withDynamo: false');
  return new DynamoDBClient({
    ...localClientConfig(stack),
    endpoint: stack.endpoints.dynamoDb,
    ...config,
  });
};

// Tables are ACTIVE at once: the default 500 ms in CREATING only slows tests down.
const startDynalite = (): Promise<DynamoDbEmulator> =>
  startDynamoDbEmulator({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

const createIdempotencyTable = async (
  client: DynamoDBClient,
  name: string,
): Promise<{ name: string; ttlEnabled: boolean }> => {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  for (let attempt = 0; attempt < 50; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      }),
    );
    return { name, ttlEnabled: true };
  } catch (error) {
    // dynalite 4 has no UpdateTimeToLive (UnknownOperationException). Nothing is lost locally:
    // the worker checks `expiration` itself, as it must on AWS, where TTL deletion lags by days.
    if ((error as Error).name !== 'UnknownOperationException') throw error;
    return { name, ttlEnabled: false };
  }
};

/** The stack's queue URL form: fauxqs' path on its reachable address. */
const reachableQueue = (
  fauxqs: FauxqsServer,
  created: { queueUrl: string; queueArn: string; queueName: string },
): LocalQueue => ({
  name: created.queueName,
  url: `${fauxqs.address}${new URL(created.queueUrl).pathname}`,
  arn: created.queueArn,
});

/**
 * An SQS metric of a fauxqs queue, now: `ApproximateNumberOfMessagesVisible` and
 * `ApproximateAgeOfOldestMessage` (seconds since the oldest message still on the queue was sent).
 */
const sqsMetric = (
  fauxqs: FauxqsServer,
  metricName: string,
  dimensions: readonly { Name?: string; Value?: string }[],
): number | undefined => {
  const name = dimensions.find((d) => d.Name === 'QueueName')?.Value;
  const queue = name ? fauxqs.inspectQueue(name) : undefined;
  if (!queue) return undefined;
  const { ready, delayed, inflight } = queue.messages;
  if (metricName === 'ApproximateNumberOfMessagesVisible') return ready.length;
  if (metricName !== 'ApproximateAgeOfOldestMessage') return undefined;
  const sent = [...ready, ...delayed, ...inflight.map((i) => i.message)].map(
    (m) => m.sentTimestamp,
  );
  return sent.length === 0 ? 0 : Math.floor((Date.now() - Math.min(...sent)) / 1000);
};

/**
 * Starts the worker's AWS surroundings in-process on 127.0.0.1 (ephemeral ports): fauxqs with
 * the source queue and its DLQ, dynalite with the idempotency table, each behind a fault proxy,
 * and the STS, Redshift and EventBridge emulators (Redshift acts in the account of the STS key
 * that signs each call). `env` configures the worker against it (through
 * the proxies).
 *
 * @example
 * const stack = await startLocalStack({ datashares: 'examples/datashares.json', maxReceiveCount: 3 });
 * Object.assign(process.env, stack.env);
 * // ... run the worker against stack.queues.source.url
 * stack.dynamoDbProxy?.setFaults({ failNext: [{ kind: 'throttle', operations: ['PutItem'] }] });
 * await stack.stop();
 *
 * @throws {TypeError} on an invalid seed or fault option (whatever had started is stopped first).
 */
export const startLocalStack = async (options: LocalStackOptions = {}): Promise<LocalStack> => {
  const region = options.region ?? 'us-east-1';
  const maxReceiveCount = options.maxReceiveCount ?? 5;
  const consumerAccountId = options.consumerAccountId ?? DEFAULT_CONSUMER_ACCOUNT_ID;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    // Reverse start order; every server is stopped even if one fails.
    const results = await Promise.allSettled(
      stops
        .splice(0)
        .reverse()
        .map((stop) => stop()),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };

  try {
    const fauxqs = await startFauxqs({ port: 0, logger: false, defaultRegion: region });
    stops.push(() => fauxqs.stop());
    const deadLetter = reachableQueue(
      fauxqs,
      fauxqs.createQueue(LOCAL_STACK_NAMES.deadLetterQueue, { region }),
    );
    const source = reachableQueue(
      fauxqs,
      fauxqs.createQueue(LOCAL_STACK_NAMES.sourceQueue, {
        region,
        attributes: {
          VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: deadLetter.arn,
            maxReceiveCount: String(maxReceiveCount),
          }),
        },
      }),
    );

    // The proxies always sit in front, so a test can arm faults at any time. Lambda's own poller
    // (the event source mapping) should take `endpoints.sqsDirect`: see `directSqsClientFor`.
    const sqsProxy = await startFaultProxy({
      service: 'sqs',
      upstream: fauxqs.address,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.sqsFaults === undefined ? {} : { faults: options.sqsFaults }),
    });
    stops.push(() => sqsProxy.stop());

    // STS first: the Redshift emulator resolves the keys it issues.
    const sts = await startStsEmulator({
      hubAccountId: consumerAccountId,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.accounts === undefined ? {} : { accounts: options.accounts }),
      ...(options.stsFaults === undefined ? {} : { faults: options.stsFaults }),
    });
    stops.push(() => sts.stop());

    const redshift = await startRedshiftEmulator({
      consumerAccountId,
      callers: sts.callers,
      visibility: options.redshiftVisibility ?? (options.accounts === undefined ? 'all' : 'caller'),
      ...(options.crossAccountAnswer === undefined
        ? {}
        : { crossAccountAnswer: options.crossAccountAnswer }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.datashares === undefined ? {} : { datashares: options.datashares }),
      ...(options.redshiftFaults === undefined ? {} : { faults: options.redshiftFaults }),
    });
    stops.push(() => redshift.stop());
    const eventBridge = await startEventBridgeEmulator({
      eventBuses: [LOCAL_STACK_NAMES.auditEventBus],
      accountId: consumerAccountId,
      region,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.eventBridgeFaults === undefined ? {} : { faults: options.eventBridgeFaults }),
    });
    stops.push(() => eventBridge.stop());

    const functionName = MAPPING_DEFAULTS.functionName;
    const functionArn = `arn:aws:lambda:${region}:${consumerAccountId}:function:${functionName}`;
    const lambda = await startLambdaEmulator({
      mappings: [{ functionArn, eventSourceArn: source.arn, uuid: LOCAL_WORKER_MAPPING_UUID }],
      ...(options.lambdaFaults === undefined ? {} : { faults: options.lambdaFaults }),
    });
    stops.push(() => lambda.stop());
    // infra/audit.yml's AuditLogRule: every audit event on the bus, as its JSON envelope, into
    // the audit log group (the event's own time is the log event's timestamp).
    const logs = await startLogsEmulator({ logGroups: [LOCAL_STAGE.auditLogGroup] });
    stops.push(() => logs.stop());
    eventBridge.addRule({
      name: 'datashare-revoker-local-audit-to-logs',
      eventBusName: LOCAL_STACK_NAMES.auditEventBus,
      sources: [LOCAL_STAGE.auditEventSource],
      deliver: (envelope) => {
        logs.putLogEvent(LOCAL_STAGE.auditLogGroup, {
          logStreamName: envelope.id,
          timestamp: Date.parse(envelope.time),
          message: JSON.stringify(envelope),
        });
      },
    });

    let dynamo:
      | { direct: string; proxy: FaultProxy; table: { name: string; ttlEnabled: boolean } }
      | undefined;
    if (options.withDynamo ?? true) {
      const server = await startDynalite();
      stops.push(server.stop);
      // The table is created straight on dynalite: start faults are for the worker's calls.
      const client = new DynamoDBClient({
        region,
        credentials: LOCAL_CREDENTIALS,
        endpoint: server.endpoint,
      });
      let table: { name: string; ttlEnabled: boolean };
      try {
        table = await createIdempotencyTable(client, LOCAL_STACK_NAMES.idempotencyTable);
      } finally {
        client.destroy();
      }
      const proxy = await startFaultProxy({
        service: 'dynamodb',
        upstream: server.endpoint,
        ...(options.seed === undefined ? {} : { seed: options.seed }),
        ...(options.dynamoDbFaults === undefined ? {} : { faults: options.dynamoDbFaults }),
      });
      stops.push(() => proxy.stop());
      dynamo = { direct: server.endpoint, proxy, table };
    } else if (options.dynamoDbFaults !== undefined) {
      throw new TypeError(
        'dynamoDbFaults given, but the local stack was started withDynamo: false',
      );
    }

    // infra/alarms.yml's queue alarms, on fauxqs' live state (the function alarms need Lambda).
    const alarmTopicArn = `arn:aws:sns:${region}:${consumerAccountId}:${LOCAL_STAGE.stackName}-alarms`;
    const cloudWatch = await startCloudWatchEmulator({
      metrics: (namespace, metricName, dimensions) =>
        namespace === 'AWS/SQS' ? sqsMetric(fauxqs, metricName, dimensions) : undefined,
      alarms: [
        {
          name: `${LOCAL_STAGE.stackName}-dlq-not-empty`,
          description: 'Requests were quarantined in the DLQ; inspect and redrive or discard them.',
          actions: [alarmTopicArn],
          namespace: 'AWS/SQS',
          metricName: 'ApproximateNumberOfMessagesVisible',
          dimensions: [{ Name: 'QueueName', Value: deadLetter.name }],
          threshold: 0,
          comparisonOperator: 'GreaterThanThreshold',
        },
        {
          name: `${LOCAL_STAGE.stackName}-requests-too-old`,
          description: 'The oldest revocation request has waited longer than 900 s.',
          actions: [alarmTopicArn],
          namespace: 'AWS/SQS',
          metricName: 'ApproximateAgeOfOldestMessage',
          dimensions: [{ Name: 'QueueName', Value: source.name }],
          threshold: 900,
          comparisonOperator: 'GreaterThanThreshold',
        },
      ],
    });
    stops.push(() => cloudWatch.stop());

    const outputs: Record<string, string> = {
      SourceQueueUrl: source.url,
      SourceQueueArn: source.arn,
      DeadLetterQueueUrl: deadLetter.url,
      AuditEventBusName: LOCAL_STACK_NAMES.auditEventBus,
      AuditEventSource: LOCAL_STAGE.auditEventSource,
      AuditLogGroupName: LOCAL_STAGE.auditLogGroup,
      AlarmTopicArn: alarmTopicArn,
      WorkerFunctionName: functionName,
      WorkerFunctionArn: functionArn,
      ...(dynamo ? { IdempotencyTableName: dynamo.table.name } : {}),
    };
    const cloudFormation = await startCloudFormationEmulator({
      region,
      accountId: consumerAccountId,
      stacks: [{ stackName: LOCAL_STAGE.stackName, outputs }],
    });
    stops.push(() => cloudFormation.stop());

    const env: Record<string, string> = {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: sqsProxy.endpoint,
      AWS_ENDPOINT_URL_REDSHIFT: redshift.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
      AWS_ENDPOINT_URL_STS: sts.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      SOURCE_QUEUE_ARN: source.arn,
      // Not the worker's: the operator CLI's (`revoker --stage local`).
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudWatch.endpoint,
      AUDIT_EVENT_BUS_NAME: LOCAL_STACK_NAMES.auditEventBus,
      DEAD_LETTER_QUEUE_URL: deadLetter.url,
      MAX_RECEIVE_COUNT: String(maxReceiveCount),
      QUEUE_VISIBILITY_TIMEOUT_SECONDS: String(options.visibilityTimeoutSeconds ?? 30),
      ...(dynamo
        ? {
            AWS_ENDPOINT_URL_DYNAMODB: dynamo.proxy.endpoint,
            IDEMPOTENCY_TABLE_NAME: dynamo.table.name,
          }
        : {}),
    };
    return {
      region,
      accountId: consumerAccountId,
      maxReceiveCount,
      endpoints: {
        sqs: sqsProxy.endpoint,
        sqsDirect: fauxqs.address,
        redshift: redshift.endpoint,
        eventBridge: eventBridge.endpoint,
        sts: sts.endpoint,
        lambda: lambda.endpoint,
        logs: logs.endpoint,
        cloudWatch: cloudWatch.endpoint,
        cloudFormation: cloudFormation.endpoint,
        ...(dynamo ? { dynamoDb: dynamo.proxy.endpoint, dynamoDbDirect: dynamo.direct } : {}),
      },
      queues: { source, deadLetter },
      ...(dynamo ? { idempotencyTable: dynamo.table } : {}),
      auditEventBus: {
        name: LOCAL_STACK_NAMES.auditEventBus,
        arn: `arn:aws:events:${region}:${consumerAccountId}:event-bus/${LOCAL_STACK_NAMES.auditEventBus}`,
      },
      fauxqs,
      sqsProxy,
      ...(dynamo ? { dynamoDbProxy: dynamo.proxy } : {}),
      redshift,
      eventBridge,
      sts,
      lambda,
      workerMapping: { uuid: LOCAL_WORKER_MAPPING_UUID, functionName, functionArn },
      logs,
      cloudWatch,
      cloudFormation,
      outputs,
      env,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }
};
