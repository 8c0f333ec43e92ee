import {
  EventBridgeClient,
  EventBridgeServiceException,
  PutEventsCommand,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeAuditPublisher } from '../../../src/adapters/eventbridge.js';
import { AwsCallError, FailureKind } from '../../../src/core/errors.js';
import type { AuditEntry } from '../../../src/worker/ports.js';
import { DATA_SHARE_ARN } from '../../helpers/requests.js';

const eventBridge = mockClient(EventBridgeClient);

const publisher = () =>
  new EventBridgeAuditPublisher({
    client: new EventBridgeClient({ region: 'us-east-1' }),
    eventBusName: 'governance-audit',
    source: 'governance.datashare-revoker',
  });

const entry = (key: string): AuditEntry => ({
  key,
  detail: JSON.stringify({ eventId: key, outcome: 'REVOKED' }),
  resources: [DATA_SHARE_ARN],
});

const signal = new AbortController().signal;

describe('EventBridgeAuditPublisher', () => {
  beforeEach(() => {
    eventBridge.reset();
  });

  it('sends every entry to the audit bus with our source, the detail type, the detail and the resources', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 0,
      Entries: [{ EventId: 'ev-1' }, { EventId: 'ev-2' }],
    });
    // Act
    const results = await publisher().publish([entry('evt-1'), entry('evt-2')], signal);
    // Assess
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      Entries: ['evt-1', 'evt-2'].map((key) => ({
        EventBusName: 'governance-audit',
        Source: 'governance.datashare-revoker',
        DetailType: 'Datashare Revocation Result',
        Detail: JSON.stringify({ eventId: key, outcome: 'REVOKED' }),
        Resources: [DATA_SHARE_ARN],
      })),
    });
    // The mock types `args` as the command alone; the SDK passes the options second.
    expect((calls[0]?.args as unknown[] | undefined)?.[1]).toEqual({ abortSignal: signal });
  });

  it("counts an entry's size as EventBridge does, with our Source and the detail type", () => {
    const value = entry('evt-é');
    expect(publisher().entrySize(value)).toBe(
      Buffer.byteLength('governance.datashare-revoker') +
        Buffer.byteLength('Datashare Revocation Result') +
        Buffer.byteLength(value.detail) +
        Buffer.byteLength(DATA_SHARE_ARN),
    );
  });

  it('maps failed entries of an HTTP 200 back to their entries, in request order', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 2,
      Entries: [
        { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
        { EventId: 'ev-2' },
        { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      ],
    });
    // Act
    const results = await publisher().publish([entry('a'), entry('b'), entry('c')], signal);
    // Assess
    expect(results).toEqual([
      { ok: false, code: 'ThrottlingException', message: 'Rate exceeded', retryable: true },
      { ok: true },
      { ok: false, code: 'MalformedDetail', message: 'Detail is malformed.', retryable: false },
    ]);
  });

  it.each([
    ['ThrottlingException', true],
    ['InternalFailure', true],
    ['AccessDeniedException', false],
    ['InvalidArgument', false],
    ['MalformedDetail', false],
    ['NotAuthorizedForSourceException', false],
    ['ResourceNotFoundException', false],
  ])('treats the entry error %s as retryable: %s', async (code, retryable) => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: code, ErrorMessage: 'm' }] });
    const [result] = await publisher().publish([entry('a')], signal);
    expect(result).toEqual({ ok: false, code, message: 'm', retryable });
  });

  it('treats an entry PutEvents gave no result for as a retryable failure', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-1' }] });
    const results = await publisher().publish([entry('a'), entry('b')], signal);
    expect(results).toEqual([
      { ok: true },
      {
        ok: false,
        code: 'MissingEntryResult',
        message: 'PutEvents returned no result for this entry',
        retryable: true,
      },
    ]);
  });

  it('wraps a failure of the whole call in an AwsCallError classified throttled, with the cause', async () => {
    // Prepare
    const original = new EventBridgeServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400, requestId: 'req-eb' },
    });
    eventBridge.on(PutEventsCommand).rejects(original);
    // Act
    const error = await publisher()
      .publish([entry('a')], signal)
      .catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({
      kind: FailureKind.Throttled,
      code: 'ThrottlingException',
      httpStatusCode: 400,
      requestId: 'req-eb',
      message: 'PutEvents failed: Rate exceeded',
      context: { operation: 'PutEvents' },
      cause: original,
    });
  });

  it('classifies an access-denied failure of the whole call as permanent', async () => {
    eventBridge.on(PutEventsCommand).rejects(
      new EventBridgeServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message: 'not authorized to perform events:PutEvents',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const error = await publisher()
      .publish([entry('a')], signal)
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: FailureKind.Permanent, retryable: false });
  });

  it('classifies a network failure of the whole call as transient', async () => {
    eventBridge
      .on(PutEventsCommand)
      .rejects(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const error = await publisher()
      .publish([entry('a')], signal)
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: FailureKind.Transient, code: 'ECONNREFUSED' });
  });
});
