import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PurgeOptions, purgeDlq } from '../../src/cli/commands/dlq-purge.js';
import {
  deadLetter,
  type Fixture,
  inspect,
  readyBodies,
  requestBody,
  startFixture,
  testContext,
} from './helpers.js';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.stop();
});

const options = (dlqUrl: string, overrides: Partial<PurgeOptions> = {}): PurgeOptions => ({
  dlqUrl,
  filter: {},
  dryRun: false,
  yes: true,
  waitTimeSeconds: 0,
  ...overrides,
});

const seed = async (dlqUrl: string) => {
  for (let i = 0; i < 12; i++) {
    await deadLetter(fixture, dlqUrl, requestBody(`evt-${i}`), {
      reason: { errorCode: i % 3 === 0 ? 'SchemaViolation' : 'ThrottlingException' },
    });
  }
};

describe('revoker dlq purge', () => {
  it('deletes exactly the matching messages after showing them; the others stay, visible', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    await seed(dlqUrl);
    const t = testContext(fixture.sqs);

    // Act
    const result = await purgeDlq(
      t.context,
      options(dlqUrl, { filter: { errorCode: 'SchemaViolation' } }),
    );

    // Assess
    expect(result.summary).toEqual({
      matched: 4,
      deleted: 4,
      failedToDelete: 0,
      purgedWholeQueue: false,
    });
    expect(t.stdout[0]).toMatch(/^EVENT ID/);
    expect(readyBodies(fixture, dlqUrl)).toEqual(
      [1, 2, 4, 5, 7, 8, 10, 11].map((i) => requestBody(`evt-${i}`)).sort(),
    );
    expect(inspect(fixture, dlqUrl).inflight).toHaveLength(0);
  });

  it('--dry-run deletes nothing', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    await seed(dlqUrl);

    // Act
    const result = await purgeDlq(
      testContext(fixture.sqs).context,
      options(dlqUrl, { filter: { eventId: 'evt-3' }, dryRun: true }),
    );

    // Assess
    expect(result.summary.matched).toBe(1);
    expect(inspect(fixture, dlqUrl).ready).toHaveLength(12);
  });

  it('without a filter, purges the whole queue with PurgeQueue once confirmed', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    await seed(dlqUrl);
    const t = testContext(fixture.sqs, { answer: true });

    // Act
    const result = await purgeDlq(t.context, options(dlqUrl, { yes: false }));

    // Assess
    expect(t.questions).toEqual([`Purge all ~12 message(s) of ${dlqUrl}?`]);
    expect(result.summary).toMatchObject({ purgedWholeQueue: true, matched: 12 });
    expect(inspect(fixture, dlqUrl).ready).toHaveLength(0);
  });

  it('refuses without --yes when stdin is not a terminal, deleting nothing', async () => {
    // Prepare
    const dlqUrl = await fixture.createQueue('dlq');
    await seed(dlqUrl);

    // Act
    const failure = await purgeDlq(
      testContext(fixture.sqs, { answer: 'no-tty' }).context,
      options(dlqUrl, { yes: false, filter: { errorCode: 'SchemaViolation' } }),
    ).catch((e) => e);

    // Assess
    expect(failure).toMatchObject({ exitCode: 2, name: 'ConfirmationRefusedError' });
    expect(inspect(fixture, dlqUrl).ready).toHaveLength(12);
  });
});
