import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_BODY_BYTES,
  MAX_LISTED_PROBLEMS,
  MAX_REJECTION_MESSAGE_BYTES,
  type ParseResult,
  parseMessageBody,
  quote,
  type Rejection,
  RejectionCode,
  rejectionMessage,
} from '../../../src/core/parse.js';
import { validRequestArbitrary } from '../../helpers/request-arbitraries.js';
import {
  CONSUMER_ARN,
  DATA_SHARE_ARN,
  eventBridgeEnvelope,
  SERVERLESS_CONSUMER_ARN,
  validBody,
  validRequest,
} from '../../helpers/requests.js';

/** The request contract's wording of each expectation: what an operator reads in the DLQ. */
const EXPECTED = {
  eventId: 'a string of 1 to 256 characters, unique per policy decision',
  dataShareArn:
    'a datashare ARN: arn:<partition>:redshift:<region>:<12-digit producer account>:datashare:<producer namespace>/<name>',
  consumerArn:
    'a consumer namespace ARN: arn:<partition>:redshift:<region>:<account>:namespace:<id> or arn:<partition>:redshift-serverless:<region>:<account>:namespace/<id>',
  consumerRegion: 'an AWS region code such as us-east-1',
  disassociateEntireAccount: 'the boolean true',
  policyId: 'a non-empty string of at most 256 characters',
  issuedAt: 'an ISO-8601 timestamp with a time zone, such as 2026-11-25T08:00:00Z',
  reason: 'a string of at most 1024 characters',
  correlationId: 'a string of at most 256 characters',
  dryRun: 'a boolean',
  target: 'exactly one of consumerArn, consumerRegion or disassociateEntireAccount: true',
} as const;

/** What the fields of an EventBridge envelope must be. */
const ENVELOPE_EXPECTED = {
  field: 'a string, as in every EventBridge event',
  resources: 'an array of strings, as in every EventBridge event',
  resource: 'a string',
} as const;

/**
 * Every expectation a rejection may state: the contract's words, never a library's generic text
 * (a schema without our text would say valibot's English default, "Invalid type: Expected ...").
 */
const KNOWN_EXPECTATIONS: readonly string[] = [
  ...Object.values(EXPECTED),
  ...Object.values(ENVELOPE_EXPECTED),
  'a JSON object',
  'a RevocationRequest object',
  `at most ${MAX_BODY_BYTES} bytes`,
];

const rejectionOf = (body: string): Rejection => {
  const result = parseMessageBody(body);
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.request)}`);
  return result.rejection;
};

const requestOf = (body: string) => {
  const result = parseMessageBody(body);
  if (!result.ok) throw new Error(`expected a request, got ${result.rejection.message}`);
  return result;
};

/** What `quote` makes of a value whose JSON is longer than 80 characters. */
const truncatedQuote = (json: string): string => `${json.slice(0, 80)}… (${json.length} chars)`;

describe('parseMessageBody — a valid request', () => {
  it('accepts a request naming a provisioned consumer namespace and returns its fields', () => {
    // Prepare
    const body = validBody({ correlationId: 'corr-9', dryRun: true });
    // Act
    const result = requestOf(body);
    // Assess
    expect(result.request).toEqual({
      eventId: 'evt-0001',
      dataShareArn: DATA_SHARE_ARN,
      consumerArn: CONSUMER_ARN,
      policyId: 'pii-exposure-7',
      issuedAt: '2026-11-25T08:00:00Z',
      reason: 'consumer lost its data-processing agreement',
      correlationId: 'corr-9',
      dryRun: true,
    });
    expect(result.envelope).toBeUndefined();
  });

  it('accepts the Redshift Serverless form of a consumer namespace ARN', () => {
    const result = requestOf(validBody({ consumerArn: SERVERLESS_CONSUMER_ARN }));
    expect(result.request.consumerArn).toBe(SERVERLESS_CONSUMER_ARN);
  });

  it.each([
    'arn:aws-cn:redshift:cn-north-1:111122223333:namespace:abc-123',
    'arn:aws-us-gov:redshift:us-gov-west-1:111122223333:namespace:abc-123',
    'arn:aws-cn:redshift-serverless:cn-northwest-1:111122223333:namespace/abc-123',
  ])('accepts a consumer namespace ARN in another partition: %s', (consumerArn) => {
    expect(requestOf(validBody({ consumerArn })).request.consumerArn).toBe(consumerArn);
  });

  it('accepts a request naming a consumer region as its only target', () => {
    const result = requestOf(validBody({ consumerArn: undefined, consumerRegion: 'eu-central-1' }));
    expect(result.request).toMatchObject({ consumerRegion: 'eu-central-1' });
    expect(result.request.consumerArn).toBeUndefined();
  });

  it('accepts a request naming the entire consumer account as its only target', () => {
    const result = requestOf(
      validBody({ consumerArn: undefined, disassociateEntireAccount: true }),
    );
    expect(result.request.disassociateEntireAccount).toBe(true);
  });

  it('accepts a request without the optional reason, correlationId and dryRun', () => {
    const result = requestOf(validBody({ reason: undefined }));
    expect(result.request.reason).toBeUndefined();
    expect(result.request.correlationId).toBeUndefined();
    expect(result.request.dryRun).toBeUndefined();
  });

  it('ignores unknown fields, leaving them out of the request', () => {
    const result = requestOf(validBody({ priority: 'high', nested: { a: 1 }, version: 2 }));
    expect(result.request).not.toHaveProperty('priority');
    expect(result.request).not.toHaveProperty('nested');
    expect(result.request).not.toHaveProperty('version');
  });

  it.each([
    ['one character', 'e'],
    ['256 characters', 'e'.repeat(256)],
  ])('accepts an eventId of %s', (_, eventId) => {
    expect(requestOf(validBody({ eventId })).request.eventId).toBe(eventId);
  });

  it.each([
    '2026-11-25T08:00:00Z',
    '2026-11-25T08:00:00.123Z',
    '2026-11-25T10:00:00+02:00',
    '2026-11-25T03:00:00-05:00',
  ])('accepts an issuedAt with a time zone: %s', (issuedAt) => {
    expect(requestOf(validBody({ issuedAt })).request.issuedAt).toBe(issuedAt);
  });

  it('accepts a reason of exactly 1024 characters', () => {
    const reason = 'r'.repeat(1024);
    expect(requestOf(validBody({ reason })).request.reason).toBe(reason);
  });

  it('accepts a body of exactly 256 KiB', () => {
    // Prepare: pad an unknown field so the body is exactly MAX_BODY_BYTES long
    const bare = validBody({ padding: '' });
    const body = validBody({ padding: 'p'.repeat(MAX_BODY_BYTES - bare.length) });
    // Act
    const result = parseMessageBody(body);
    // Assess
    expect(Buffer.byteLength(body)).toBe(256 * 1024);
    expect(result.ok).toBe(true);
  });
});

describe('parseMessageBody — each field rule names the field, quotes what was given and says what is expected', () => {
  it.each<[string, Record<string, unknown>, string, string]>([
    ['an empty eventId', { eventId: '' }, 'eventId', '""'],
    [
      'an eventId of 257 characters',
      { eventId: 'e'.repeat(257) },
      'eventId',
      truncatedQuote(`"${'e'.repeat(257)}"`),
    ],
    ['a numeric eventId', { eventId: 42 }, 'eventId', '42'],
    ['a missing eventId', { eventId: undefined }, 'eventId', 'nothing'],
    [
      'a dataShareArn that is a namespace ARN',
      { dataShareArn: CONSUMER_ARN },
      'dataShareArn',
      truncatedQuote(JSON.stringify(CONSUMER_ARN)),
    ],
    [
      'a dataShareArn without a share name',
      { dataShareArn: 'arn:aws:redshift:us-east-1:444455556666:datashare:ns-1' },
      'dataShareArn',
      '"arn:aws:redshift:us-east-1:444455556666:datashare:ns-1"',
    ],
    [
      'a dataShareArn with an 11-digit account',
      { dataShareArn: 'arn:aws:redshift:us-east-1:44445555666:datashare:ns/s' },
      'dataShareArn',
      '"arn:aws:redshift:us-east-1:44445555666:datashare:ns/s"',
    ],
    [
      'a dataShareArn of another service',
      { dataShareArn: 'arn:aws:s3:::bucket/key' },
      'dataShareArn',
      '"arn:aws:s3:::bucket/key"',
    ],
    ['a missing dataShareArn', { dataShareArn: undefined }, 'dataShareArn', 'nothing'],
    [
      'a consumerArn that is a datashare ARN',
      { consumerArn: 'arn:aws:redshift:us-east-1:444455556666:datashare:ns/s' },
      'consumerArn',
      '"arn:aws:redshift:us-east-1:444455556666:datashare:ns/s"',
    ],
    [
      'a provisioned consumerArn written with a slash',
      { consumerArn: 'arn:aws:redshift:us-east-1:111122223333:namespace/abc' },
      'consumerArn',
      '"arn:aws:redshift:us-east-1:111122223333:namespace/abc"',
    ],
    [
      'a serverless consumerArn written with a colon',
      { consumerArn: 'arn:aws:redshift-serverless:us-east-1:111122223333:namespace:abc' },
      'consumerArn',
      '"arn:aws:redshift-serverless:us-east-1:111122223333:namespace:abc"',
    ],
    [
      'an upper-case consumerRegion',
      { consumerArn: undefined, consumerRegion: 'US-EAST-1' },
      'consumerRegion',
      '"US-EAST-1"',
    ],
    [
      'a consumerRegion without dashes',
      { consumerArn: undefined, consumerRegion: 'useast1' },
      'consumerRegion',
      '"useast1"',
    ],
    [
      'a string disassociateEntireAccount',
      { consumerArn: undefined, disassociateEntireAccount: 'yes' },
      'disassociateEntireAccount',
      '"yes"',
    ],
    ['an empty policyId', { policyId: '' }, 'policyId', '""'],
    [
      'a policyId of 257 characters',
      { policyId: 'p'.repeat(257) },
      'policyId',
      truncatedQuote(`"${'p'.repeat(257)}"`),
    ],
    [
      'an issuedAt without a time zone',
      { issuedAt: '2026-11-25T08:00:00' },
      'issuedAt',
      '"2026-11-25T08:00:00"',
    ],
    ['an issuedAt that is a date only', { issuedAt: '2026-11-25' }, 'issuedAt', '"2026-11-25"'],
    ['an issuedAt in words', { issuedAt: 'yesterday' }, 'issuedAt', '"yesterday"'],
    [
      'an issuedAt in epoch milliseconds',
      { issuedAt: 1_764_057_600_000 },
      'issuedAt',
      '1764057600000',
    ],
    [
      'a reason of 1025 characters',
      { reason: 'r'.repeat(1025) },
      'reason',
      truncatedQuote(`"${'r'.repeat(1025)}"`),
    ],
    [
      'a correlationId of 257 characters',
      { correlationId: 'c'.repeat(257) },
      'correlationId',
      truncatedQuote(`"${'c'.repeat(257)}"`),
    ],
    ['a string dryRun', { dryRun: 'false' }, 'dryRun', '"false"'],
  ])('rejects %s', (_, overrides, field, given) => {
    // Act
    const rejection = rejectionOf(validBody(overrides));
    // Assess
    const expected = EXPECTED[field as keyof typeof EXPECTED];
    expect(rejection.code).toBe(RejectionCode.SchemaViolation);
    expect(rejection.problems).toEqual([{ field, given, expected }]);
    expect(rejection.message).toBe(`${field}: expected ${expected}; given ${given}`);
  });

  it('quotes at most 80 characters of a long value and says how long it was', () => {
    // Prepare
    const reason = 'x'.repeat(5000);
    // Act
    const rejection = rejectionOf(validBody({ reason }));
    // Assess
    expect(rejection.problems[0]?.given).toBe(`"${'x'.repeat(79)}… (5002 chars)`);
    expect(rejection.message.length).toBeLessThan(200);
  });

  it('lists every problem of a request, in field order, in one message', () => {
    const rejection = rejectionOf(validBody({ eventId: '', policyId: '' }));
    expect(rejection.problems.map((problem) => problem.field)).toEqual(['eventId', 'policyId']);
    expect(rejection.message).toBe(
      `eventId: expected ${EXPECTED.eventId}; given ""; policyId: expected ${EXPECTED.policyId}; given ""`,
    );
  });
});

describe('parseMessageBody — exactly one target', () => {
  it('rejects a request naming no target, saying none was given', () => {
    const rejection = rejectionOf(validBody({ consumerArn: undefined }));
    expect(rejection.problems).toEqual([
      { field: 'target', given: 'none of them', expected: EXPECTED.target },
    ]);
    expect(rejection.message).toBe(`target: expected ${EXPECTED.target}; given none of them`);
  });

  it('rejects a request whose only target is disassociateEntireAccount: false, as naming none', () => {
    const rejection = rejectionOf(
      validBody({ consumerArn: undefined, disassociateEntireAccount: false }),
    );
    expect(rejection.problems).toEqual([
      { field: 'target', given: 'none of them', expected: EXPECTED.target },
    ]);
  });

  it('rejects a request naming two targets, listing both', () => {
    const rejection = rejectionOf(validBody({ consumerRegion: 'us-east-1' }));
    expect(rejection.problems).toEqual([
      { field: 'target', given: 'consumerArn and consumerRegion', expected: EXPECTED.target },
    ]);
    expect(rejection.message).toBe(
      `target: expected ${EXPECTED.target}; given consumerArn and consumerRegion`,
    );
  });

  it('rejects a request naming a region and the entire account, listing both', () => {
    const rejection = rejectionOf(
      validBody({
        consumerArn: undefined,
        consumerRegion: 'us-east-1',
        disassociateEntireAccount: true,
      }),
    );
    expect(rejection.problems[0]?.given).toBe('consumerRegion and disassociateEntireAccount');
  });

  it('rejects a request naming all three targets, listing all three', () => {
    const rejection = rejectionOf(
      validBody({ consumerRegion: 'us-east-1', disassociateEntireAccount: true }),
    );
    expect(rejection.problems[0]?.given).toBe(
      'consumerArn and consumerRegion and disassociateEntireAccount',
    );
  });
});

describe('parseMessageBody — bodies that are not a request', () => {
  it('rejects a body over 256 KiB unread, giving its size in bytes', () => {
    // Prepare
    const body = validBody({ padding: 'p'.repeat(MAX_BODY_BYTES) });
    const bytes = Buffer.byteLength(body);
    // Act
    const rejection = rejectionOf(body);
    // Assess
    expect(rejection).toEqual({
      code: RejectionCode.BodyTooLarge,
      problems: [{ field: '(body)', given: `${bytes} bytes`, expected: 'at most 262144 bytes' }],
      eventId: null,
      message: `(body): expected at most 262144 bytes; given ${bytes} bytes`,
    });
  });

  it('measures the body limit in UTF-8 bytes, not characters', () => {
    // 100,000 euro signs are 300,000 bytes
    const rejection = rejectionOf(JSON.stringify({ note: '€'.repeat(100_000) }));
    expect(rejection.code).toBe(RejectionCode.BodyTooLarge);
    expect(rejection.problems[0]?.given).toBe('300011 bytes');
  });

  it('rejects a body that is not JSON, quoting it with the parser error', () => {
    // Act
    const rejection = rejectionOf('{oops');
    // Assess
    expect(rejection.code).toBe(RejectionCode.MalformedJson);
    expect(rejection.eventId).toBeNull();
    expect(rejection.problems).toHaveLength(1);
    expect(rejection.problems[0]?.field).toBe('(body)');
    expect(rejection.problems[0]?.expected).toBe('a JSON object');
    expect(rejection.problems[0]?.given).toMatch(/^"\{oops" \(.*JSON.*\)$/);
    expect(rejection.message).toMatch(/^\(body\): expected a JSON object; given "\{oops" \(/);
  });

  it('rejects an empty body as not JSON', () => {
    expect(rejectionOf('').code).toBe(RejectionCode.MalformedJson);
  });

  it('quotes only the start of a long body that is not JSON', () => {
    const rejection = rejectionOf(`not json ${'z'.repeat(1000)}`);
    expect(rejection.problems[0]?.given).toMatch(/^"not json z+… \(1011 chars\) \(/);
  });

  it.each([
    ['an array', '[1,2]', '[1,2]'],
    ['null', 'null', 'null'],
    ['a number', '42', '42'],
    ['a string', '"evt-1"', '"evt-1"'],
    ['a boolean', 'true', 'true'],
  ])('rejects JSON that is %s rather than an object', (_, body, given) => {
    const rejection = rejectionOf(body);
    expect(rejection).toEqual({
      code: RejectionCode.SchemaViolation,
      problems: [{ field: '(body)', given, expected: 'a JSON object' }],
      eventId: null,
      message: `(body): expected a JSON object; given ${given}`,
    });
  });

  it('rejects an empty object, naming every required field as given nothing', () => {
    const rejection = rejectionOf('{}');
    expect(rejection.problems).toEqual([
      { field: 'eventId', given: 'nothing', expected: EXPECTED.eventId },
      { field: 'dataShareArn', given: 'nothing', expected: EXPECTED.dataShareArn },
      { field: 'policyId', given: 'nothing', expected: EXPECTED.policyId },
      { field: 'issuedAt', given: 'nothing', expected: EXPECTED.issuedAt },
    ]);
  });

  it('rejects, and does not throw on, a deeply nested array body', () => {
    // Prepare: 20 KB of brackets; JSON.stringify and Array#toString both overflow the stack on it
    const depth = 10_000;
    const body = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    // Act
    const rejection = rejectionOf(body);
    // Assess
    expect(rejection.code).toBe(RejectionCode.SchemaViolation);
    expect(rejection.problems[0]?.field).toBe('(body)');
    expect(rejection.problems[0]?.given.length).toBeLessThanOrEqual(120);
  });

  it('rejects, and does not throw on, a field holding a deeply nested array', () => {
    const depth = 10_000;
    const body = validBody({ eventId: 'x' }).replace(
      '"eventId":"x"',
      `"eventId":${'['.repeat(depth)}${']'.repeat(depth)}`,
    );
    const rejection = rejectionOf(body);
    expect(rejection.problems[0]?.field).toBe('eventId');
  });
});

describe('parseMessageBody — the EventBridge envelope form', () => {
  it('accepts a request delivered as the detail of an EventBridge event and returns the envelope', () => {
    // Prepare
    const body = JSON.stringify(eventBridgeEnvelope(validRequest()));
    // Act
    const result = requestOf(body);
    // Assess
    expect(result.request.eventId).toBe('evt-0001');
    expect(result.envelope).toEqual({
      id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      source: 'governance.policy-engine',
      detailType: 'Datashare Revocation Requested',
    });
  });

  it('prefixes the field paths of a rejected detail with "detail."', () => {
    const rejection = rejectionOf(
      JSON.stringify(
        eventBridgeEnvelope(validRequest({ issuedAt: 'nope', consumerArn: undefined })),
      ),
    );
    expect(rejection.problems).toEqual([
      { field: 'detail.issuedAt', given: '"nope"', expected: EXPECTED.issuedAt },
      { field: 'detail.target', given: 'none of them', expected: EXPECTED.target },
    ]);
    expect(rejection.message).toBe(
      `detail.issuedAt: expected ${EXPECTED.issuedAt}; given "nope"; detail.target: expected ${EXPECTED.target}; given none of them`,
    );
    expect(rejection.eventId).toBe('evt-0001');
  });

  it('rejects an envelope whose detail is not an object', () => {
    const rejection = rejectionOf(JSON.stringify(eventBridgeEnvelope('evt-0001')));
    expect(rejection).toEqual({
      code: RejectionCode.SchemaViolation,
      problems: [{ field: 'detail', given: '"evt-0001"', expected: 'a RevocationRequest object' }],
      eventId: null,
      message: 'detail: expected a RevocationRequest object; given "evt-0001"',
    });
  });

  it('rejects a malformed envelope, naming the envelope field and salvaging the eventId of its detail', () => {
    const rejection = rejectionOf(
      JSON.stringify(eventBridgeEnvelope(validRequest(), { id: undefined, resources: 'none' })),
    );
    expect(rejection.problems).toEqual([
      { field: 'id', given: 'nothing', expected: ENVELOPE_EXPECTED.field },
      { field: 'resources', given: '"none"', expected: ENVELOPE_EXPECTED.resources },
    ]);
    expect(rejection.eventId).toBe('evt-0001');
  });

  it.each(['version', 'id', 'detail-type', 'source', 'account', 'time', 'region'])(
    'rejects an envelope whose %s is not a string, saying it must be one',
    (field) => {
      const rejection = rejectionOf(
        JSON.stringify(eventBridgeEnvelope(validRequest(), { [field]: 7 })),
      );
      expect(rejection.problems).toEqual([
        { field, given: '7', expected: ENVELOPE_EXPECTED.field },
      ]);
      expect(rejection.message).toBe(`${field}: expected ${ENVELOPE_EXPECTED.field}; given 7`);
    },
  );

  it('rejects an envelope whose resources hold a non-string, naming its index', () => {
    const rejection = rejectionOf(
      JSON.stringify(eventBridgeEnvelope(validRequest(), { resources: ['arn:aws:x', 5] })),
    );
    expect(rejection.problems).toEqual([
      { field: 'resources.1', given: '5', expected: ENVELOPE_EXPECTED.resource },
    ]);
  });

  it('lists the first problems of an envelope with thousands of invalid resources, then says how many more', () => {
    // Prepare
    const resources = Array.from({ length: 5000 }, (_, n) => n);
    // Act
    const rejection = rejectionOf(
      JSON.stringify(eventBridgeEnvelope(validRequest(), { resources })),
    );
    // Assess
    expect(rejection.problems).toHaveLength(5000);
    const listed = rejection.problems
      .slice(0, MAX_LISTED_PROBLEMS)
      .map((p) => `${p.field}: expected ${p.expected}; given ${p.given}`)
      .join('; ');
    expect(rejection.message).toBe(`${listed}; … and ${5000 - MAX_LISTED_PROBLEMS} more problems`);
    expect(Buffer.byteLength(rejection.message)).toBeLessThanOrEqual(MAX_REJECTION_MESSAGE_BYTES);
  });

  it('lists fewer problems when long ones would pass the message cap, and still counts the rest', () => {
    // Prepare: problems of about 600 bytes each
    const problems = Array.from({ length: 8 }, (_, n) => ({
      field: `field${n}`,
      given: 'é'.repeat(250),
      expected: 'x'.repeat(80),
    }));
    // Act
    const message = rejectionMessage(problems);
    // Assess: three lines fit in 2 KiB, five are counted
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(MAX_REJECTION_MESSAGE_BYTES);
    expect(message.split('; given').length - 1).toBe(3);
    expect(message.endsWith('; … and 5 more problems')).toBe(true);
  });

  it('cuts a single problem longer than the cap rather than list nothing', () => {
    const message = rejectionMessage([
      { field: 'f', given: '😀'.repeat(2000), expected: 'e' },
      { field: 'g', given: '1', expected: 'e' },
    ]);
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(MAX_REJECTION_MESSAGE_BYTES);
    expect(message).toMatch(/^f: expected e; given (😀)+…; … and 1 more problem$/u);
  });

  it('salvages no eventId from a malformed envelope whose detail is not an object', () => {
    const rejection = rejectionOf(
      JSON.stringify(eventBridgeEnvelope('evt-0001', { id: undefined })),
    );
    expect(rejection.problems[0]?.field).toBe('id');
    expect(rejection.eventId).toBeNull();
  });

  it('treats an object with a detail but no detail-type and source as a bare request', () => {
    const rejection = rejectionOf(JSON.stringify({ detail: validRequest() }));
    expect(rejection.problems[0]?.field).toBe('eventId');
  });
});

describe('parseMessageBody — the eventId of a rejected request', () => {
  it('salvages a usable eventId from a rejected request', () => {
    expect(rejectionOf(validBody({ policyId: '' })).eventId).toBe('evt-0001');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['longer than 256 characters', 'e'.repeat(257)],
    ['not a string', 7],
  ])('salvages no eventId when it is %s', (_, eventId) => {
    expect(rejectionOf(validBody({ eventId, policyId: '' })).eventId).toBeNull();
  });
});

describe('quote', () => {
  it('says "nothing" for a missing value', () => {
    expect(quote(undefined)).toBe('nothing');
  });

  it('quotes a short value as JSON', () => {
    expect(quote('a"b')).toBe('"a\\"b"');
    expect(quote({ a: 1 })).toBe('{"a":1}');
  });

  it('does not split a character made of two UTF-16 units when it truncates', () => {
    // Prepare: the 80th unit of the JSON is the first half of an emoji
    const value = `${'a'.repeat(78)}😀${'b'.repeat(50)}`;
    // Act
    const quoted = quote(value);
    // Assess
    expect(quoted).toBe(`"${'a'.repeat(78)}… (132 chars)`);
    expect(Buffer.from(quoted, 'utf8').toString('utf8')).toBe(quoted);
  });
});

/** What every result must look like, whatever the body: a request, or a rejection that explains itself. */
const assertWellFormed = (result: ParseResult): void => {
  if (result.ok) {
    expect(typeof result.request.eventId).toBe('string');
    return;
  }
  const { rejection } = result;
  expect(Object.values(RejectionCode)).toContain(rejection.code);
  expect(rejection.problems.length).toBeGreaterThan(0);
  for (const problem of rejection.problems) {
    expect(problem.field).not.toBe('');
    expect(problem.given).not.toBe('');
    expect(problem.expected).not.toBe('');
    expect(KNOWN_EXPECTATIONS).toContain(problem.expected);
  }
  expect(Buffer.byteLength(rejection.message)).toBeLessThanOrEqual(MAX_REJECTION_MESSAGE_BYTES);
  const lines = rejection.problems.map(
    (p) => `${p.field}: expected ${p.expected}; given ${p.given}`,
  );
  if (lines.length <= MAX_LISTED_PROBLEMS && lines.join('; ').length < 1500)
    expect(rejection.message).toBe(lines.join('; '));
  else expect(rejection.message.startsWith((lines[0] ?? '').slice(0, 100))).toBe(true);
  if (rejection.eventId !== null) {
    expect(rejection.eventId.length).toBeGreaterThanOrEqual(1);
    expect(rejection.eventId.length).toBeLessThanOrEqual(256);
  }
};

const FIELDS = [
  'eventId',
  'dataShareArn',
  'consumerArn',
  'consumerRegion',
  'disassociateEntireAccount',
  'policyId',
  'issuedAt',
  'reason',
  'correlationId',
  'dryRun',
  'detail',
  'detail-type',
  'source',
  '__proto__',
  'constructor',
] as const;

/** A valid request with one field replaced by anything, or removed. */
const mutatedRequest = fc
  .tuple(
    validRequestArbitrary,
    fc.constantFrom(...FIELDS),
    fc.option(fc.anything({ maxDepth: 3 }), { nil: undefined }),
  )
  .map(([request, field, value]) => {
    const copy: Record<string, unknown> = { ...request };
    Object.defineProperty(copy, field, {
      value,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    return JSON.stringify(copy);
  });

const ENVELOPE_FIELDS = [
  'version',
  'id',
  'detail-type',
  'source',
  'account',
  'time',
  'region',
  'resources',
  'detail',
] as const;

/** A valid request in an EventBridge envelope with one envelope field replaced by anything, or removed. */
const mutatedEnvelope = fc
  .tuple(
    validRequestArbitrary,
    fc.constantFrom(...ENVELOPE_FIELDS),
    fc.option(fc.anything({ maxDepth: 3 }), { nil: undefined }),
  )
  .map(([request, field, value]) =>
    JSON.stringify(eventBridgeEnvelope(request, { [field]: value })),
  );

/** The JSON of a valid request with a slice cut out and random text spliced in. */
const splicedBody = fc
  .tuple(
    validRequestArbitrary,
    fc.nat(),
    fc.nat({ max: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
  )
  .map(([request, at, cut, insert]) => {
    const json = JSON.stringify(request);
    const start = at % (json.length + 1);
    return `${json.slice(0, start)}${insert}${json.slice(start + cut)}`;
  });

describe('parseMessageBody — properties', () => {
  it('yields a request or a rejection, and never throws, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (body) => {
        assertWellFormed(parseMessageBody(body));
      }),
    );
  });

  it('yields a request or a rejection, and never throws, for any JSON text', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 5 }), (body) => {
        assertWellFormed(parseMessageBody(body));
      }),
    );
  });

  it('yields a request or a rejection, and never throws, for any serialized value', () => {
    fc.assert(
      fc.property(
        fc.anything({ maxDepth: 4, withBoxedValues: true, withNullPrototype: true }),
        (value) => {
          const body = JSON.stringify(value) ?? String(value);
          assertWellFormed(parseMessageBody(body));
        },
      ),
    );
  });

  it('yields a request or a rejection, and never throws, for a valid request with one field replaced or removed', () => {
    fc.assert(
      fc.property(mutatedRequest, (body) => {
        assertWellFormed(parseMessageBody(body));
      }),
    );
  });

  it('yields a request or a rejection, and never throws, for an EventBridge envelope with one field replaced or removed', () => {
    fc.assert(
      fc.property(mutatedEnvelope, (body) => {
        assertWellFormed(parseMessageBody(body));
      }),
    );
  });

  it('yields a request or a rejection, and never throws, for a valid request with its text spliced', () => {
    fc.assert(
      fc.property(splicedBody, (body) => {
        assertWellFormed(parseMessageBody(body));
      }),
    );
  });

  it('yields a request or a rejection for any value as the detail of an EventBridge envelope', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (detail) => {
        const result = parseMessageBody(JSON.stringify(eventBridgeEnvelope(detail)));
        assertWellFormed(result);
        if (!result.ok) {
          expect(result.rejection.problems.every((p) => p.field.startsWith('detail'))).toBe(true);
        }
      }),
    );
  });

  it('parses every valid request and returns its fields unchanged', () => {
    fc.assert(
      fc.property(validRequestArbitrary, (request) => {
        // Act
        const result = parseMessageBody(JSON.stringify(request));
        // Assess
        expect(result).toEqual({ ok: true, request });
      }),
    );
  });

  it('parses every valid request wrapped in an EventBridge envelope and returns its fields unchanged', () => {
    fc.assert(
      fc.property(validRequestArbitrary, (request) => {
        const result = parseMessageBody(JSON.stringify(eventBridgeEnvelope(request)));
        expect(result.ok && result.request).toEqual(request);
      }),
    );
  });

  it('ignores any unknown field added to a valid request', () => {
    fc.assert(
      fc.property(
        validRequestArbitrary,
        fc.string({ minLength: 1 }).filter((name) => !(FIELDS as readonly string[]).includes(name)),
        fc.jsonValue(),
        (request, name, value) => {
          const result = parseMessageBody(JSON.stringify({ [name]: value, ...request }));
          expect(result).toEqual({ ok: true, request });
        },
      ),
    );
  });
});
