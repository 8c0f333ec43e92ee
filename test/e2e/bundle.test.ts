/**
 * The deployable artefact: `src/handler.ts` bundled by esbuild as a deployment would (the
 * options read from serverless.yml's `custom.esbuild` block: split into the handler and its
 * chunks), imported with the environment set, run through the event source mapping against the
 * emulators. Its clients reach the emulators only through the SDK's own AWS_ENDPOINT_URL_*
 * variables.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type EntryOutputs, entryOutputs } from '../../bench/cold-start/outputs.js';
import { readServerlessBuild } from '../../bench/cold-start/serverless-esbuild.js';
import {
  callFilter,
  dataShareArn,
  MALFORMED_BODIES,
  namespaceArn,
  revocationRequest,
  seedOf,
  type Target,
} from './fixtures.js';
import {
  auditOf,
  createLambdaService,
  type E2eStack,
  type Handler,
  startE2eStack,
} from './harness.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const ENTRY = 'src/handler.ts';

const revoked: Target = {
  dataShareArn: dataShareArn('bundle_sales'),
  consumerArn: namespaceArn('bundle'),
};
const gone: Target = {
  dataShareArn: dataShareArn('bundle_gone'),
  consumerArn: namespaceArn('bundle-gone', 'eu-west-1'),
};

let e2e: E2eStack;
let scratch: string;
let outdir: string;
let outputs: EntryOutputs;
/** Every code file of the build: the handler, its static chunks and the lazy ones. */
let allCode: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'revoker-bundle-'));
  outdir = join(scratch, 'build');
  const { options } = await readServerlessBuild(join(ROOT, 'serverless.yml'));
  const { metafile } = await build({
    ...options,
    entryPoints: [ENTRY],
    absWorkingDir: ROOT,
    outdir,
    metafile: true,
    logLevel: 'silent',
  });
  outputs = entryOutputs(metafile, ENTRY);
  const code = await Promise.all(
    [...outputs.atInit, ...outputs.lazy].map((file) => readFile(join(ROOT, file), 'utf8')),
  );
  allCode = code.join('\n');
  e2e = await startE2eStack({
    datashares: seedOf([revoked]),
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 10,
    seed: 41,
  });
}, 60_000);

afterAll(async () => {
  await e2e?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/**
 * Loads the bundle with Node's own loader, as Lambda does: an `.mjs` handler is imported with
 * `import()` (Lambda turns `require` of ES modules off), so its top-level `await` of the wiring
 * runs as in Lambda. The test runner hands `.mjs` files to Node untransformed. Each `instance` is a
 * copy of the whole build (the handler and its chunks), so fresh modules: a new container whose
 * cold start reads `process.env`.
 */
const importBundle = async (instance: string): Promise<{ handler: Handler }> => {
  const copy = join(scratch, instance);
  await cp(outdir, copy, { recursive: true });
  return (await import(/* @vite-ignore */ pathToFileURL(join(copy, 'handler.mjs')).href)) as {
    handler: Handler;
  };
};

it('the bundle carries none of the local emulators and no endpoint of its own', () => {
  // Act
  const code = allCode;

  // Assess
  expect(outputs.lazy.length).toBeGreaterThan(0);
  for (const local of [
    'fauxqs',
    'dynalite',
    'src/local/',
    'redshift-emulator',
    'eventbridge-emulator',
  ]) {
    expect(code.includes(local), `the bundle mentions ${local}`).toBe(false);
  }
});

it('the bundled handler, pointed at the emulators only through AWS_ENDPOINT_URL_*, revokes, deduplicates, rejects and audits as the contract says', async () => {
  // Prepare: the only endpoint configuration is the SDK's own variables
  expect(Object.keys(e2e.env).filter((name) => /ENDPOINT/.test(name))).toEqual(
    expect.arrayContaining([
      'AWS_ENDPOINT_URL_SQS',
      'AWS_ENDPOINT_URL_REDSHIFT',
      'AWS_ENDPOINT_URL_EVENTBRIDGE',
      'AWS_ENDPOINT_URL_DYNAMODB',
    ]),
  );
  const { handler } = await importBundle('run');
  const service = createLambdaService({ coldStart: () => handler });
  const malformed = MALFORMED_BODIES.notJson(1);
  const request = revocationRequest('bundle/revoked', revoked);

  // Act
  const sent = await e2e.send([
    request,
    request,
    revocationRequest('bundle/gone', gone),
    malformed,
  ]);
  const { reports } = await e2e.run(service.handler, { functionTimeoutMs: 8000 });
  await service.settled();

  // Assess: every message acknowledged in one invocation
  expect(reports.map((r) => r.outcome)).toEqual(['succeeded']);
  expect(await e2e.depth('source')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  // REVOKED once for the duplicate pair; ALREADY_REVOKED for a datashare Redshift does not know
  expect(e2e.stack.redshift.isAssociated(revoked.dataShareArn, revoked.consumerArn)).toBe(false);
  expect(e2e.stack.redshift.countCalls(callFilter(revoked)).total).toBe(1);
  expect(e2e.stack.redshift.countCalls(callFilter(gone)).total).toBe(1);
  const events = e2e.auditEvents();
  expect(auditOf(events, 'bundle/revoked')).toMatchObject([{ outcome: 'REVOKED' }]);
  expect(auditOf(events, 'bundle/gone')).toMatchObject([{ outcome: 'ALREADY_REVOKED' }]);
  // REJECTED: in the DLQ with its reason, audited with eventId null
  const rejected = sent[3];
  expect(events.filter((e) => e.detail.messageId === rejected?.messageId)).toMatchObject([
    { detail: { eventId: null, outcome: 'REJECTED' } },
  ]);
  expect(await e2e.deadLetters()).toMatchObject([
    {
      body: malformed,
      revoker: {
        outcome: 'REJECTED',
        errorCode: 'MalformedJson',
        sourceMessageId: rejected?.messageId,
      },
    },
  ]);
  // Deduplication went through the DynamoDB table: a second container sees the decision done
  const { handler: second } = await importBundle('second-container');
  await e2e.send([request]);
  const again = await e2e.run(createLambdaService({ coldStart: () => second }).handler, {
    functionTimeoutMs: 8000,
  });
  expect(again.reports.map((r) => r.outcome)).toEqual(['succeeded']);
  expect(e2e.stack.redshift.countCalls(callFilter(revoked)).total).toBe(1);
  expect(auditOf(e2e.auditEvents(), 'bundle/revoked')).toHaveLength(1);
});

it('the bundle fails its cold start with the variable, the value and what is expected', async () => {
  // Prepare
  const saved = process.env.DEAD_LETTER_QUEUE_URL;
  process.env.DEAD_LETTER_QUEUE_URL = 'not a url';

  // Act
  const cold = await importBundle('misconfigured').then(
    () => undefined,
    (error: unknown) => error,
  );
  process.env.DEAD_LETTER_QUEUE_URL = saved;

  // Assess
  expect(cold).toBeInstanceOf(Error);
  expect((cold as Error).message).toMatch(
    /DEAD_LETTER_QUEUE_URL: expected the URL of the dead-letter queue.*given "not a url"/,
  );
});

it('the bundled breaker opens at the N+1th call and disables the mapping through its dynamically imported Lambda client', async () => {
  // Prepare: a breaker of one revocation; two new targets
  const first: Target = {
    dataShareArn: dataShareArn('bundle_b1'),
    consumerArn: namespaceArn('b1'),
  };
  const second: Target = {
    dataShareArn: dataShareArn('bundle_b2'),
    consumerArn: namespaceArn('b2'),
  };
  e2e.stack.redshift.seed(seedOf([first, second]));
  const readCode = (files: readonly string[]) =>
    Promise.all(files.map((file) => readFile(join(ROOT, file), 'utf8')));
  const [initCode, lazyCode] = [await readCode(outputs.atInit), await readCode(outputs.lazy)];
  const saved = { ...process.env };
  Object.assign(process.env, { BREAKER_MAX_REVOCATIONS: '1', BREAKER_WINDOW_SECONDS: '60' });
  const { handler } = await importBundle('breaker');
  for (const name of ['BREAKER_MAX_REVOCATIONS', 'BREAKER_WINDOW_SECONDS'])
    if (saved[name] === undefined) delete process.env[name];
  const { uuid } = e2e.stack.workerMapping;

  // Act
  await e2e.send([
    revocationRequest('bundle/breaker-1', first),
    revocationRequest('bundle/breaker-2', second),
  ]);
  const worker = await e2e.startWorker(createLambdaService({ coldStart: () => handler }).handler, {
    functionTimeoutMs: 8000,
    batchSize: 2,
  });
  await e2e.stack.lambda.waitForState(uuid, 'Disabled', 20_000);
  await worker.stop();

  // Assess: the client's code is in a chunk the handler does not read at cold start, so the
  // mapping was disabled through that chunk, loaded by the dynamic import when the breaker opened
  // (the client's class name, kept by keepNames, and the Lambda API path its commands call)
  for (const clientCode of ['"LambdaClient"', '/2015-03-31/event-source-mappings/']) {
    expect(initCode.join('\n')).not.toContain(clientCode);
    expect(lazyCode.join('\n')).toContain(clientCode);
  }
  expect(e2e.stack.lambda.calls('UpdateEventSourceMapping')).toMatchObject([
    { uuid, input: { Enabled: false } },
  ]);
  const calls = [first, second].map((t) => e2e.stack.redshift.countCalls(callFilter(t)).total);
  expect(calls.sort()).toEqual([0, 1]);
  expect(
    e2e.auditEvents().filter((e) => e.detailType === 'Datashare Revoker Breaker Opened'),
  ).toHaveLength(1);
});
