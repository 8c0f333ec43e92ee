/**
 * The emulators behind the operator console — CloudWatch Logs, CloudFormation, CloudWatch — over
 * their real wire protocols with the real SDK clients, and the audit rule that feeds the log group.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudFormationEmulator } from '../../src/local/cloudformation-emulator/index.js';
import { startCloudWatchEmulator } from '../../src/local/cloudwatch-emulator/index.js';
import { parseFilterPattern, startLogsEmulator } from '../../src/local/logs-emulator/index.js';
import {
  LOCAL_STAGE,
  type LocalStack,
  localClientConfig,
  startLocalStack,
} from '../../src/local/stack.js';

const client = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'k', secretAccessKey: 's' },
  maxAttempts: 1,
};

describe('the JSON filter pattern subset', () => {
  it('matches =, != and && on nested fields, prefixes with *, and refuses the rest by name', () => {
    // Prepare
    const message = JSON.stringify({
      detail: { eventId: 'pol-7/1', attempts: 2, dryRun: false, x: null },
    });

    // Act / Assess
    expect(parseFilterPattern('')(message)).toBe(true);
    expect(
      parseFilterPattern('{ $.detail.eventId = "pol-7/1" && $.detail.attempts = 2 }')(message),
    ).toBe(true);
    expect(parseFilterPattern('{ $.detail.eventId = "pol-7*" }')(message)).toBe(true);
    expect(parseFilterPattern('{ $.detail.eventId != "pol-7/1" }')(message)).toBe(false);
    expect(parseFilterPattern('{ $.detail.dryRun = false && $.detail.x = null }')(message)).toBe(
      true,
    );
    expect(parseFilterPattern('{ $.detail.missing != "a" }')(message)).toBe(false);
    expect(parseFilterPattern('{ $.detail.eventId = "a" }')('not json')).toBe(false);
    expect(() => parseFilterPattern('ERROR')).toThrow(/supports only JSON patterns/);
    expect(() => parseFilterPattern('{ $.a > 5 }')).toThrow(
      /supports \{ \$\.a\.b = "text" && \$\.c != 5 \.\.\. \}.*got "\$\.a > 5"/,
    );
  });
});

describe('the CloudWatch Logs emulator', () => {
  let logs: Awaited<ReturnType<typeof startLogsEmulator>>;
  let sdk: CloudWatchLogsClient;

  beforeAll(async () => {
    logs = await startLogsEmulator({ logGroups: ['/g'], maxPageEvents: 2 });
    sdk = new CloudWatchLogsClient({ ...client, endpoint: logs.endpoint });
    for (const [i, t] of [30, 10, 20, 40, 50].entries()) {
      logs.putLogEvent('/g', {
        logStreamName: `s${i % 2}`,
        timestamp: t,
        message: JSON.stringify({ i }),
      });
    }
  });

  afterAll(async () => {
    sdk.destroy();
    await logs.stop();
  });

  it('pages FilterLogEvents in time order with nextToken, within the time range and streams', async () => {
    // Act
    const pages: number[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await sdk.send(
        new FilterLogEventsCommand({
          logGroupName: '/g',
          startTime: 10,
          endTime: 40,
          ...(nextToken && { nextToken }),
        }),
      );
      pages.push((page.events ?? []).map((e) => e.timestamp ?? -1));
      nextToken = page.nextToken;
    } while (nextToken);
    const stream = await sdk.send(
      new FilterLogEventsCommand({ logGroupName: '/g', logStreamNames: ['s1'], limit: 1 }),
    );
    const groups = await sdk.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/' }));

    // Assess
    expect(pages).toEqual([
      [10, 20],
      [30, 40],
    ]);
    expect(stream.events?.map((e) => e.timestamp)).toEqual([10]);
    expect(stream.nextToken).toBeDefined();
    expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual(['/g']);
  });

  it("answers AWS's errors: unknown group, bad limit, foreign token, bad pattern, unknown operation, throttling", async () => {
    // Act
    const errors = await Promise.all(
      [
        new FilterLogEventsCommand({ logGroupName: '/nope' }),
        new FilterLogEventsCommand({ logGroupName: '/g', limit: 0 }),
        new FilterLogEventsCommand({ logGroupName: '/g', nextToken: 'forged' }),
        new FilterLogEventsCommand({ logGroupName: '/g', filterPattern: '{ $.i > 1 }' }),
      ].map((command) =>
        sdk.send(command).then(
          () => undefined,
          (e: Error) => `${e.name}: ${e.message}`,
        ),
      ),
    );
    const unknown = await fetch(logs.endpoint, {
      method: 'POST',
      headers: {
        'x-amz-target': 'Logs_20140328.PutLogEvents',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: '{}',
    });
    logs.failNextCalls(1);
    const throttled = await sdk
      .send(new FilterLogEventsCommand({ logGroupName: '/g' }))
      .catch((e: Error) => e.name);

    // Assess
    expect(errors).toEqual([
      'ResourceNotFoundException: The specified log group does not exist.',
      'InvalidParameterException: limit: expected an integer from 1 to 10000, given 0',
      'InvalidParameterException: nextToken: not a token this service issued: "forged"',
      expect.stringMatching(/^InvalidParameterException: Invalid filter pattern/),
    ]);
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
    expect(throttled).toBe('ThrottlingException');
  });

  it('serves its admin routes: state, events, faults (validated) and clear', async () => {
    // Act
    const state = await (await fetch(`${logs.endpoint}/__emulator/state`)).json();
    const events = (await (
      await fetch(`${logs.endpoint}/__emulator/events?logGroupName=/g`)
    ).json()) as {
      events: unknown[];
    };
    const bad = await fetch(`${logs.endpoint}/__emulator/faults`, {
      method: 'POST',
      body: '{"maxPageEvents":0}',
    });
    const badFaults = await fetch(`${logs.endpoint}/__emulator/faults`, {
      method: 'POST',
      body: '{"failNextCalls":-1}',
    });
    const good = await fetch(`${logs.endpoint}/__emulator/faults`, {
      method: 'POST',
      body: '{"maxPageEvents":3,"failNextCalls":0}',
    });
    await fetch(`${logs.endpoint}/__emulator/clear`, { method: 'POST' });

    // Assess
    expect(state).toMatchObject({ logGroups: ['/g'], maxPageEvents: 2 });
    expect(events.events).toHaveLength(5);
    expect(bad.status).toBe(400);
    expect(badFaults.status).toBe(400);
    expect(await good.json()).toMatchObject({ maxPageEvents: 3 });
    expect(logs.events('/g')).toHaveLength(0);
    expect(() => logs.setMaxPageEvents(10_001)).toThrow(
      /maxPageEvents: expected an integer from 1 to 10000/,
    );
  });
});

describe('the CloudFormation and CloudWatch emulators', () => {
  it('describes stacks by name, id or all; refuses unknown stacks, actions and bad faults', async () => {
    // Prepare
    const cfn = await startCloudFormationEmulator({
      stacks: [{ stackName: 'a', outputs: { K: 'v&<' } }],
    });
    const sdk = new CloudFormationClient({ ...client, endpoint: cfn.endpoint });

    // Act
    const byName = await sdk.send(new DescribeStacksCommand({ StackName: 'a' }));
    const stored = cfn.putStack({ stackName: 'b', outputs: {}, stackStatus: 'UPDATE_COMPLETE' });
    const byId = await sdk.send(new DescribeStacksCommand({ StackName: stored.stackId }));
    const all = await sdk.send(new DescribeStacksCommand({}));
    const missing = await sdk
      .send(new DescribeStacksCommand({ StackName: 'c' }))
      .catch((e: Error) => `${e.name}: ${e.message}`);
    cfn.setFaults({ failNextCalls: 1 });
    const throttled = await sdk.send(new DescribeStacksCommand({})).catch((e: Error) => e.name);
    const action = await fetch(cfn.endpoint, {
      method: 'POST',
      body: 'Action=CreateStack&Version=2010-05-15',
    });
    const admin = (await (await fetch(`${cfn.endpoint}/__emulator/stacks`)).json()) as {
      calls: Record<string, number>;
    };
    const badFault = await fetch(`${cfn.endpoint}/__emulator/faults`, {
      method: 'POST',
      body: '{"code":"Nope"}',
    });
    const badStack = await fetch(`${cfn.endpoint}/__emulator/stacks`, {
      method: 'POST',
      body: '{}',
    });
    sdk.destroy();
    await cfn.stop();

    // Assess
    expect(byName.Stacks?.[0]?.Outputs).toEqual([{ OutputKey: 'K', OutputValue: 'v&<' }]);
    expect(byId.Stacks?.[0]).toMatchObject({ StackName: 'b', StackStatus: 'UPDATE_COMPLETE' });
    expect(all.Stacks?.map((s) => s.StackName)).toEqual(['a', 'b']);
    expect(missing).toBe('ValidationError: Stack with id c does not exist');
    expect(throttled).toBe('Throttling');
    expect(action.status).toBe(400);
    expect(await action.text()).toContain('<Code>InvalidAction</Code>');
    expect(admin.calls).toMatchObject({ 'DescribeStacks ok': 3, 'DescribeStacks rejected': 1 });
    expect(badFault.status).toBe(400);
    expect(badStack.status).toBe(400);
  });

  it('evaluates alarms from their metric now, filtered by state, name and action prefix', async () => {
    // Prepare
    let depth = 0;
    const cw = await startCloudWatchEmulator({
      metrics: (_ns, name) => (name === 'Depth' ? depth : undefined),
      alarms: [
        {
          name: 'svc-depth',
          description: 'd',
          actions: ['arn:topic'],
          namespace: 'N',
          metricName: 'Depth',
          dimensions: [],
          threshold: 0,
          comparisonOperator: 'GreaterThanThreshold',
        },
        {
          name: 'svc-none',
          description: 'n',
          actions: ['arn:other'],
          namespace: 'N',
          metricName: 'Missing',
          dimensions: [],
          threshold: 0,
          comparisonOperator: 'GreaterThanThreshold',
        },
      ],
    });
    const sdk = new CloudWatchClient({ ...client, endpoint: cw.endpoint });

    // Act
    const quiet = await sdk.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }));
    depth = 3;
    const loud = await sdk.send(
      new DescribeAlarmsCommand({ StateValue: 'ALARM', ActionPrefix: 'arn:topic' }),
    );
    const byName = await sdk.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'svc-n' }));
    const metric = await sdk.send(
      new GetMetricDataCommand({
        StartTime: new Date(0),
        EndTime: new Date(),
        MetricDataQueries: [
          {
            Id: 'a',
            MetricStat: {
              Metric: { Namespace: 'N', MetricName: 'Depth' },
              Period: 60,
              Stat: 'Maximum',
            },
          },
          {
            Id: 'b',
            MetricStat: {
              Metric: { Namespace: 'N', MetricName: 'Missing' },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );
    const empty = await sdk
      .send(
        new GetMetricDataCommand({
          StartTime: new Date(0),
          EndTime: new Date(),
          MetricDataQueries: [],
        }),
      )
      .catch((e: Error) => e.name);
    const unknown = await fetch(cw.endpoint, {
      method: 'POST',
      headers: {
        'x-amz-target': 'GraniteServiceVersion20100801.PutMetricData',
        'content-type': 'application/x-amz-json-1.0',
      },
      body: '{}',
    });
    const admin = (await (await fetch(`${cw.endpoint}/__emulator/alarms`)).json()) as {
      alarms: { state: string }[];
    };
    sdk.destroy();
    await cw.stop();

    // Assess
    expect(quiet.MetricAlarms).toEqual([]);
    expect(loud.MetricAlarms?.map((a) => [a.AlarmName, a.StateValue])).toEqual([
      ['svc-depth', 'ALARM'],
    ]);
    expect(loud.MetricAlarms?.[0]?.StateUpdatedTimestamp).toBeInstanceOf(Date);
    expect(byName.MetricAlarms?.map((a) => [a.AlarmName, a.StateValue])).toEqual([
      ['svc-none', 'INSUFFICIENT_DATA'],
    ]);
    expect(metric.MetricDataResults?.map((r) => r.Values)).toEqual([[3], []]);
    expect(empty).toMatch(/^Validation/);
    expect(unknown.status).toBe(400);
    expect(admin.alarms.map((a: { state: string }) => a.state)).toEqual([
      'ALARM',
      'INSUFFICIENT_DATA',
    ]);
  });
});

describe('the local stack as stage local', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ withDynamo: false });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('copies each audit event on the bus, as its JSON envelope, into the audit log group, as the audit rule does', async () => {
    // Prepare
    const events = new EventBridgeClient({
      ...localClientConfig(stack),
      endpoint: stack.endpoints.eventBridge,
    });

    // Act
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'revoker-audit',
            Source: LOCAL_STAGE.auditEventSource,
            DetailType: 'Datashare Revocation Result',
            Detail: '{"eventId":"e1"}',
            Time: new Date('2026-07-01T00:00:00Z'),
          },
          { EventBusName: 'revoker-audit', Source: 'someone.else', DetailType: 'x', Detail: '{}' },
          {
            EventBusName: 'default',
            Source: LOCAL_STAGE.auditEventSource,
            DetailType: 'x',
            Detail: '{}',
          },
        ],
      }),
    );
    events.destroy();

    // Assess
    const logged = stack.logs.events(LOCAL_STAGE.auditLogGroup);
    expect(logged).toHaveLength(1);
    expect(logged[0]?.timestamp).toBe(Date.parse('2026-07-01T00:00:00Z'));
    expect(JSON.parse(logged[0]?.message ?? '')).toMatchObject({
      version: '0',
      'detail-type': 'Datashare Revocation Result',
      source: LOCAL_STAGE.auditEventSource,
      account: stack.accountId,
      region: 'us-east-1',
      detail: { eventId: 'e1' },
    });
    expect(stack.outputs).toMatchObject({
      SourceQueueUrl: stack.queues.source.url,
      DeadLetterQueueUrl: stack.queues.deadLetter.url,
      AuditLogGroupName: LOCAL_STAGE.auditLogGroup,
      WorkerFunctionName: LOCAL_STAGE.functionName,
    });
    expect(stack.outputs.IdempotencyTableName).toBeUndefined();
  });
});
