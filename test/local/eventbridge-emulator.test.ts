import {
  EventBridgeClient,
  type EventBridgeClientConfig,
  type EventBridgeServiceException,
  InternalException,
  PutEventsCommand,
  type PutEventsRequestEntry,
  ThrottlingException,
} from '@aws-sdk/client-eventbridge';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type EventBridgeEmulator,
  startEventBridgeEmulator,
} from '../../src/local/eventbridge-emulator/index.js';

const BUS = 'revoker-audit';
let events: EventBridgeEmulator;
const clients: EventBridgeClient[] = [];

const clientFor = (
  emulator: EventBridgeEmulator,
  extra: Partial<EventBridgeClientConfig> = {},
): EventBridgeClient => {
  const client = new EventBridgeClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    ...extra,
  });
  clients.push(client);
  return client;
};

const entry = (overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  Source: 'datashare-revoker',
  DetailType: 'DatashareConsumerRevoked',
  Detail: JSON.stringify({ outcome: 'revoked' }),
  EventBusName: BUS,
  ...overrides,
});

const put = (entries: PutEventsRequestEntry[], emulator = events) =>
  clientFor(emulator).send(new PutEventsCommand({ Entries: entries }));

const failureOf = async (promise: Promise<unknown>): Promise<EventBridgeServiceException> => {
  try {
    await promise;
  } catch (error) {
    return error as EventBridgeServiceException;
  }
  throw new Error('expected the call to fail');
};

beforeAll(async () => {
  events = await startEventBridgeEmulator({ eventBuses: [BUS], seed: 3 });
});

afterEach(() => {
  events.reset();
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await events.stop();
});

describe('EventBridge emulator: PutEvents through the real SDK', () => {
  it('accepts entries, answers an EventId each in request order and records the events', async () => {
    // Prepare
    const time = new Date('2026-01-02T03:04:05.000Z');
    const resource =
      'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/sales_daily';

    // Act
    const out = await put([
      entry({ Time: time, Resources: [resource] }),
      entry({
        EventBusName: `arn:aws:events:us-east-1:111122223333:event-bus/${BUS}`,
        Detail: '{"n":2}',
      }),
    ]);

    // Assess
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toEqual([
      { EventId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      { EventId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    ]);
    expect(events.eventsOn(BUS)).toEqual([
      {
        eventId: out.Entries?.[0]?.EventId,
        time: time.toISOString(),
        eventBusName: BUS,
        busExists: true,
        source: 'datashare-revoker',
        detailType: 'DatashareConsumerRevoked',
        detail: { outcome: 'revoked' },
        resources: [resource],
        call: 1,
      },
      expect.objectContaining({ eventId: out.Entries?.[1]?.EventId, detail: { n: 2 } }),
    ]);
  });

  it('answers invalid entries per entry, in request order, while the valid ones are accepted', async () => {
    // Act
    const out = await put([
      entry({ Source: undefined }),
      entry(),
      entry({ Detail: '[1, 2]' }),
      entry({ Detail: 'not json' }),
      entry({ DetailType: 'x'.repeat(129) }),
      entry({ Source: 'aws.redshift' }),
      entry({ Resources: ['not-an-arn'] }),
    ]);

    // Assess
    expect(out.FailedEntryCount).toBe(6);
    expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'InvalidArgument',
      'ok',
      'MalformedDetail',
      'MalformedDetail',
      'InvalidArgument',
      'NotAuthorizedForSourceException',
      'InvalidArgument',
    ]);
    expect(out.Entries?.[0]?.ErrorMessage).toContain('Source');
    expect(events.events).toHaveLength(1);
    expect(events.stats()).toMatchObject({
      calls: 1,
      entries: 7,
      acceptedEntries: 1,
      failedEntries: { InvalidArgument: 3, MalformedDetail: 2, NotAuthorizedForSourceException: 1 },
    });
  });

  it.each([
    ['no entries', 0],
    ['more than 10 entries', 11],
  ])('%s is a 400 ValidationException for the whole call', async (_name, count) => {
    // Act
    const error = await failureOf(put(Array.from({ length: count }, () => entry())));

    // Assess
    expect(error.name).toBe('ValidationException');
    expect(error.$fault).toBe('client');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(events.events).toHaveLength(0);
  });

  it('entries summing over 256 KiB are a 400 ValidationException for the whole call', async () => {
    // Prepare
    const big = JSON.stringify({ pad: 'x'.repeat(100 * 1024) });

    // Act
    const error = await failureOf(
      put([entry({ Detail: big }), entry({ Detail: big }), entry({ Detail: big })]),
    );

    // Assess
    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain('over the limit');
  });

  it('a single entry over 256 KiB is an InvalidArgument entry', async () => {
    // Act
    const out = await put([
      entry({ Detail: JSON.stringify({ pad: 'x'.repeat(257 * 1024) }) }),
      entry(),
    ]);

    // Assess
    expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['InvalidArgument', 'ok']);
  });

  it('an unknown X-Amz-Target is a 400 UnknownOperationException', async () => {
    // Act
    const response = await fetch(events.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSEvents.PutRule',
      },
      body: '{}',
    });

    // Assess
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('an unknown bus is accepted as AWS does, and the event is marked as going nowhere', async () => {
    // Act
    const out = await put([entry({ EventBusName: 'typo-bus' })]);

    // Assess
    expect(out.FailedEntryCount).toBe(0);
    expect(events.events[0]).toMatchObject({ eventBusName: 'typo-bus', busExists: false });
    expect(events.eventsOn(BUS)).toHaveLength(0);
  });

  it('unknownEventBus "reject" answers the entry ResourceNotFoundException', async () => {
    // Prepare
    const strict = await startEventBridgeEmulator({ eventBuses: [BUS], unknownEventBus: 'reject' });

    // Act
    const out = await put([entry({ EventBusName: 'typo-bus' }), entry()], strict);
    await strict.stop();

    // Assess
    expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'ResourceNotFoundException',
      'ok',
    ]);
  });
});

describe('EventBridge emulator: fault injection', () => {
  it('failNextCalls throttle and error reach the SDK as ThrottlingException (400) and InternalException (500)', async () => {
    // Prepare
    events.setFaults({ failNextCalls: [{ kind: 'throttle' }, { kind: 'error' }] });

    // Act
    const throttled = await failureOf(put([entry()]));
    const failed = await failureOf(put([entry()]));
    const ok = await put([entry()]);

    // Assess
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect(throttled.$metadata.httpStatusCode).toBe(400);
    expect(failed).toBeInstanceOf(InternalException);
    expect([failed.$fault, failed.$metadata.httpStatusCode]).toEqual(['server', 500]);
    expect(ok.FailedEntryCount).toBe(0);
    expect(events.stats()).toMatchObject({
      calls: 3,
      failedCalls: { ThrottlingException: 1, InternalException: 1 },
      injectedCallFailures: 2,
    });
  });

  it('a failNextCalls fault "when: after" accepts the events, then fails the answer: the events are on the bus', async () => {
    // Prepare
    events.setFaults({ failNextCalls: [{ kind: 'error', when: 'after' }] });

    // Act
    const lost = await failureOf(
      put([entry(), entry({ DetailType: 'DatashareRevocationFailed' })]),
    );

    // Assess
    expect(lost).toBeInstanceOf(InternalException);
    expect(events.eventsOn(BUS).map((e) => e.detailType)).toEqual([
      'DatashareConsumerRevoked',
      'DatashareRevocationFailed',
    ]);
    expect(events.stats()).toMatchObject({
      calls: 1,
      acceptedEntries: 2,
      failedCalls: { InternalException: 1 },
      injectedCallFailures: 1,
      lostAnswers: 1,
    });
  });

  it('a failNextCalls fault "when: before" accepts nothing and is not a lost answer', async () => {
    // Prepare
    events.setFaults({ failNextCalls: [{ kind: 'error' }] });

    // Act
    await failureOf(put([entry()]));

    // Assess
    expect(events.events).toHaveLength(0);
    expect(events.stats()).toMatchObject({ injectedCallFailures: 1, lostAnswers: 0 });
  });

  it('lostAnswerRate with lostAs "reset" accepts the events, then resets the connection', async () => {
    // Prepare
    events.setFaults({ lostAnswerRate: 1, lostAs: 'reset' });

    // Act
    const lost = await failureOf(put([entry()]));

    // Assess
    expect((lost as unknown as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(events.eventsOn(BUS)).toHaveLength(1);
    expect(events.stats()).toMatchObject({ failedCalls: { reset: 1 }, lostAnswers: 1 });
  });

  it('flags the events of a lost answer (lostAnswer), not those of an answered call', async () => {
    // Prepare
    events.setFaults({ failNextCalls: [{ kind: 'error', when: 'after' }] });

    // Act
    await failureOf(put([entry()]));
    await put([entry()]);

    // Assess
    expect(events.eventsOn(BUS).map((e) => [e.lostAnswer, e.clientAborted])).toEqual([
      [true, undefined],
      [undefined, undefined],
    ]);
  });

  it('flags the events of a call the client aborted before the answer came (clientAborted)', async () => {
    // Prepare: the answer comes after 300 ms, the client gives up after 50
    events.setFaults({ latencyMs: 300 });
    const client = clientFor(events);

    // Act
    await failureOf(
      client.send(new PutEventsCommand({ Entries: [entry()] }), {
        abortSignal: AbortSignal.timeout(50),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 350));
    events.setFaults({ latencyMs: 0 });
    await client.send(new PutEventsCommand({ Entries: [entry()] }));

    // Assess
    expect(events.eventsOn(BUS).map((e) => [e.lostAnswer, e.clientAborted])).toEqual([
      [undefined, true],
      [undefined, undefined],
    ]);
  });

  it('refuses callFailureRate + lostAnswerRate over 1', () => {
    expect(() => events.setFaults({ callFailureRate: 0.7, lostAnswerRate: 0.4 })).toThrow(
      /callFailureRate \+ lostAnswerRate must be <= 1/,
    );
  });

  it('failNextEntries fails only the matching entries with a retryable code', async () => {
    // Prepare
    events.setFaults({
      failNextEntries: [
        { code: 'InternalFailure', detailType: 'DatashareRevocationFailed', count: 1 },
      ],
    });

    // Act
    const out = await put([entry(), entry({ DetailType: 'DatashareRevocationFailed' }), entry()]);

    // Assess
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.[1]).toEqual({
      ErrorCode: 'InternalFailure',
      ErrorMessage: 'Internal Failure',
    });
    expect(events.events).toHaveLength(2);
    expect(events.faults.failNextEntries).toEqual([]);
  });

  it('a hang is seen as a request timeout and a reset as ECONNRESET', async () => {
    // Prepare
    events.setFaults({ failNextCalls: [{ kind: 'hang' }, { kind: 'reset' }] });
    const client = clientFor(events, {
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });

    // Act
    const hung = await failureOf(client.send(new PutEventsCommand({ Entries: [entry()] })));
    const reset = await failureOf(client.send(new PutEventsCommand({ Entries: [entry()] })));

    // Assess
    expect((hung as unknown as NodeJS.ErrnoException).code).toBe('ETIMEDOUT');
    expect((reset as unknown as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(events.events).toHaveLength(0);
  });

  it('latencyMs delays every answer', async () => {
    // Prepare
    events.setFaults({ latencyMs: 100 });
    const started = performance.now();

    // Act
    await put([entry()]);

    // Assess
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('random call and entry failures from the same seed replay identically', async () => {
    // Prepare
    const run = async () => {
      const emulator = await startEventBridgeEmulator({
        eventBuses: [BUS],
        seed: 99,
        faults: { entryFailureRate: 0.4, callFailureRate: 0.2 },
      });
      const outcomes: string[] = [];
      for (let i = 0; i < 15; i++) {
        const out = await put([entry(), entry(), entry()], emulator).catch(
          (error: Error) => error.name,
        );
        outcomes.push(
          typeof out === 'string'
            ? out
            : (out.Entries ?? []).map((e) => e.ErrorCode ?? 'ok').join(','),
        );
      }
      await emulator.stop();
      return outcomes;
    };

    // Act
    const first = await run();
    const second = await run();

    // Assess
    expect(first).toEqual(second);
    const all = first.join(',');
    for (const code of ['ok', 'ThrottlingException', 'InternalFailure', 'InternalException']) {
      expect(all).toContain(code);
    }
  });
});

describe('EventBridge emulator: admin routes', () => {
  it('POST /__emulator/faults changes faults while running; a bad patch is 400', async () => {
    // Act
    const set = await fetch(`${events.endpoint}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ failNextCalls: [{ kind: 'throttle' }] }),
    });
    const bad = await fetch(`${events.endpoint}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ entryFailureRate: -1 }),
    });
    const error = await failureOf(put([entry()]));

    // Assess
    expect(set.status).toBe(200);
    expect(bad.status).toBe(400);
    expect(error).toBeInstanceOf(ThrottlingException);
  });

  it('GET /__emulator/events lists events; POST /__emulator/clear forgets them', async () => {
    // Prepare
    await put([entry()]);

    // Act
    const listed = (await (await fetch(`${events.endpoint}/__emulator/events`)).json()) as {
      events: { detailType: string }[];
      stats: { acceptedEntries: number };
    };
    const cleared = await fetch(`${events.endpoint}/__emulator/clear`, { method: 'POST' });
    const unknown = await fetch(`${events.endpoint}/__emulator/nope`);

    // Assess
    expect(listed.events.map((e) => e.detailType)).toEqual(['DatashareConsumerRevoked']);
    expect(listed.stats.acceptedEntries).toBe(1);
    expect(cleared.status).toBe(200);
    expect(events.events).toHaveLength(0);
    expect(unknown.status).toBe(404);
  });

  it('GET /__emulator/state shows buses and faults; POST /__emulator/reset restores the start faults', async () => {
    // Prepare
    events.setFaults({ latencyMs: 5 });

    // Act
    const state = (await (await fetch(`${events.endpoint}/__emulator/state`)).json()) as {
      eventBuses: string[];
      faults: { latencyMs: number };
    };
    const reset = await fetch(`${events.endpoint}/__emulator/reset`, { method: 'POST' });

    // Assess
    expect(state.eventBuses).toEqual(['default', BUS]);
    expect(state.faults.latencyMs).toBe(5);
    expect(reset.status).toBe(200);
    expect(events.faults.latencyMs).toBe(0);
  });
});
