/**
 * The shared Redshift pace end to end (README, design notes): two containers of the real worker,
 * cold-started with REDSHIFT_SHARED_PACE=true, behind the local event source mapping, against a
 * Redshift control plane that admits 8 calls per second (2 at once) and DynamoDB (dynalite) for
 * the pace record. Both containers take their slots from the one record, so together they call
 * at about the control plane's rate; every decision is revoked and audited once.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PACE_ITEM_PREFIX } from '../../src/adapters/pace-record.js';
import { accountOfNamespaceArn } from '../../src/core/arn.js';
import { dynamoDbClientFor } from '../../src/local/stack.js';
import { dataShareArn, namespaceArn, revocationRequest, seedOf, type Target } from './fixtures.js';
import { createTaggedLambdaService, type E2eStack, startE2eStack } from './harness.js';

const TARGETS: Target[] = Array.from({ length: 24 }, (_, i) => ({
  dataShareArn: dataShareArn(`pace_${i}`),
  consumerArn: namespaceArn(`pace-${i}`),
}));
const eventIdOf = (i: number) => `pace/decision/${i}`;
const LIMIT_PER_SECOND = 8;

let e2e: E2eStack;

beforeAll(async () => {
  e2e = await startE2eStack({
    datashares: seedOf(TARGETS),
    visibilityTimeoutSeconds: 20,
    redshiftFaults: { latencyMs: 30, throttleRps: LIMIT_PER_SECOND, burst: 2 },
    workerEnv: { REDSHIFT_SHARED_PACE: 'true' },
  });
}, 60_000);

afterAll(async () => {
  await e2e?.stop();
});

it('two containers pace one control plane from one shared record: every decision revoked and audited once, at about its rate', async () => {
  // Prepare: two containers, tagged so that each audit event says which one acted
  const { stack } = e2e;
  const { service, containerOf } = createTaggedLambdaService(e2e.env);
  await e2e.send(TARGETS.map((target, i) => revocationRequest(eventIdOf(i), target)));

  // Act
  const worker = await e2e.startWorker(service.handler, {
    maximumConcurrency: 2,
    batchSize: 6,
    functionTimeoutMs: 15_000,
  });
  await worker.drain({ idleTimeoutMs: 60_000 });
  await worker.stop();

  // Assess: each decision REVOKED and audited once, by both containers together
  const results = e2e
    .auditEvents()
    .filter((event) => event.detailType === 'Datashare Revocation Result');
  expect(results.map((event) => event.detail.eventId).sort()).toEqual(
    TARGETS.map((_, i) => eventIdOf(i)).sort(),
  );
  expect(results.every((event) => event.detail.outcome === 'REVOKED')).toBe(true);
  expect(
    new Set(results.map((event) => containerOf.get(event.detail.worker.awsRequestId))).size,
  ).toBe(2);
  // Together at about the control plane's rate: no second with more than twice its calls, and
  // fewer throttled calls than targets
  const calls = stack.redshift.calls.filter(
    (call) => call.operation === 'DisassociateDataShareConsumer',
  );
  const busiestSecond = Math.max(
    ...calls.map((call) => calls.filter((c) => c.at >= call.at && c.at < call.at + 1000).length),
  );
  expect(busiestSecond).toBeLessThanOrEqual(2 * LIMIT_PER_SECOND);
  expect(calls.filter((call) => call.outcome === 'throttled').length).toBeLessThan(TARGETS.length);
  // The one record both containers paced from
  const client = dynamoDbClientFor(stack, { endpoint: stack.endpoints.dynamoDbDirect });
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: stack.idempotencyTable?.name ?? '',
      Key: {
        id: {
          S: `${PACE_ITEM_PREFIX}${accountOfNamespaceArn(TARGETS[0]?.consumerArn ?? '')}|us-east-1`,
        },
      },
      ConsistentRead: true,
    }),
  );
  client.destroy();
  expect(Number(Item?.slotAt?.N)).toBeGreaterThan(0);
  expect(Number(Item?.rate?.N)).toBeGreaterThan(0);
}, 90_000);
