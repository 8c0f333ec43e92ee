/**
 * Storm across accounts: the storm's backlog, its consumers spread equally over the hub's own
 * account and three spokes whose Redshift control planes have different rate limits. The worker
 * runs in hub mode (one adaptive gate per account, STS AssumeRole per spoke role); the baseline
 * is the storm's, with the few lines that assume the spoke role. Both are measured end to end on
 * the local stack, each account's limit a token bucket of its own at the Redshift emulator.
 *
 * The split is equal (each account owns targets ÷ 4 of the targets), not proportional to the
 * rates: with equal floors every account would finish together and a slow account holding the
 * others back would not show. Equal targets make the slowest account the floor of the whole storm
 * and give the fast accounts floors 2–4 × shorter, against which their last audit is read.
 */
import type { CallCounts, RecordedCall } from '../../src/local/redshift-emulator/index.js';
import { emptyCounts, targetKeyOf } from '../../src/local/redshift-emulator/index.js';
import type { ContainerKind } from '../containers.js';
import type { Progress } from '../progress.js';
import { quantile, round } from '../statistics.js';
import {
  runStormSideOn,
  type StormShapeSettings,
  type StormSideResult,
  type StormTrace,
} from './storm.js';

/** One consumer account of the storm and its Redshift rate limit. */
export interface ConsumerAccountLimit {
  accountId: string;
  /** Its own token bucket at the Redshift emulator, calls per second over all operations. */
  rateLimitRps: number;
}

export interface StormMultiAccountSettings extends StormShapeSettings {
  /** The worker's own account (the hub) first, then the spokes; targets split equally. */
  accounts: ConsumerAccountLimit[];
  /** The role the worker assumes in each spoke (`CONSUMER_ROLE_NAME`). */
  roleName: string;
  /** Its trust policy's `sts:ExternalId` (`CONSUMER_ROLE_EXTERNAL_ID`). */
  externalId: string;
}

/** What one account went through on one side. */
export interface StormAccountFigures {
  accountId: string;
  hub: boolean;
  rateLimitRps: number;
  targets: number;
  /** Messages naming its consumers, duplicates included. */
  messages: number;
  eventIds: number;
  /** Its own floor: its targets ÷ its rate, in seconds. */
  floorSeconds: number;
  /** First send → the last of its eventIds' first audit event (null if one was never audited). */
  lastAuditSeconds: number | null;
  /** lastAuditSeconds ÷ floorSeconds: how far behind its own floor it finished. */
  lastAuditVsFloor: number | null;
  /** First send → its last successful disassociation. */
  lastRevokedSeconds: number | null;
  disassociateCalls: CallCounts;
  /** Its disassociate calls per second from the first send: answered, and throttled. */
  perSecond: { ok: number[]; throttled: number[] };
  /** Its disassociate calls ÷ its targets. */
  amplification: number;
  /**
   * Per target, its (first) successful disassociation → the first audit event naming it, ms: how
   * long a done decision waited for its batch, i.e. for the rest of the batch's decisions.
   */
  heldAfterRevokeMs: { median: number | null; p90: number | null; max: number | null };
  /** STS AssumeRole calls for its role (null for the hub, which uses its own credentials). */
  assumeRoleCalls: number | null;
}

export type StormMultiAccountSide = StormSideResult & { accounts: StormAccountFigures[] };

export interface StormMultiAccountResult {
  settings: StormMultiAccountSettings;
  /** The slowest account's floor: max over accounts of its targets ÷ its rate. */
  floorSeconds: number;
  worker?: StormMultiAccountSide;
  baseline?: StormMultiAccountSide;
}

const DISASSOCIATE = 'DisassociateDataShareConsumer';

const roleArnOf = (accountId: string, roleName: string) =>
  `arn:aws:iam::${accountId}:role/${roleName}`;

/** Equal shares of `targets` (the first accounts get the remainder, as `makeTargets` deals them). */
const targetsOf = (settings: StormMultiAccountSettings, index: number): number =>
  Math.floor(settings.targets / settings.accounts.length) +
  (index < settings.targets % settings.accounts.length ? 1 : 0);

/** Slowest account's floor, in seconds. */
export const multiAccountFloorSeconds = (settings: StormMultiAccountSettings): number =>
  Math.max(...settings.accounts.map((a, i) => targetsOf(settings, i) / a.rateLimitRps));

const seconds = (epochMs: number | null, startedAt: number) =>
  epochMs === null ? null : round(Math.max(0, epochMs - startedAt) / 1000, 2);

const accountFigures = (
  settings: StormMultiAccountSettings,
  trace: StormTrace<Record<string, number>>,
): StormAccountFigures[] => {
  const { plan, startedAt, calls, events } = trace;
  const firstAudit = new Map<string, number>();
  for (const event of events)
    if (event.eventId !== null && !firstAudit.has(event.eventId))
      firstAudit.set(event.eventId, event.at);
  // Each eventId's account and target, from the messages themselves.
  const decisionOf = new Map<string, { accountId: string; targetKey: string }>();
  const messagesOf = new Map<string, number>();
  for (const message of plan.messages) {
    const body = JSON.parse(message.body) as { dataShareArn: string; consumerArn: string };
    const accountId = body.consumerArn.split(':')[4] ?? '';
    messagesOf.set(accountId, (messagesOf.get(accountId) ?? 0) + 1);
    decisionOf.set(message.eventId, {
      accountId,
      targetKey: targetKeyOf(body.dataShareArn, body.consumerArn),
    });
  }
  const revokedAt = new Map<string, number>();
  for (const call of calls)
    if (call.operation === DISASSOCIATE && call.outcome === 'ok' && call.targetKey !== undefined)
      if (!revokedAt.has(call.targetKey)) revokedAt.set(call.targetKey, call.at);

  return settings.accounts.map(({ accountId, rateLimitRps }, index) => {
    const targets = targetsOf(settings, index);
    const eventIds = plan.eventIds.filter((id) => decisionOf.get(id)?.accountId === accountId);
    const audited = eventIds.map((id) => firstAudit.get(id));
    const lastAudit = audited.every((at) => at !== undefined) ? Math.max(...audited) : null;
    const own = (call: RecordedCall) =>
      call.operation === DISASSOCIATE && call.callerAccountId === accountId;
    const disassociate = emptyCounts();
    const perSecond = { ok: [] as number[], throttled: [] as number[] };
    for (const call of calls.filter(own)) {
      const second = Math.max(0, Math.floor((call.at - startedAt) / 1000));
      for (const series of [perSecond.ok, perSecond.throttled])
        while (series.length <= second) series.push(0);
      if (call.outcome === 'ok') perSecond.ok[second] = (perSecond.ok[second] ?? 0) + 1;
      if (call.outcome === 'throttled')
        perSecond.throttled[second] = (perSecond.throttled[second] ?? 0) + 1;
      disassociate.total += 1;
      disassociate[call.outcome] += 1;
      if (call.injected) disassociate.injected += 1;
    }
    const auditedAtOfTarget = new Map<string, number>();
    for (const id of eventIds) {
      const at = firstAudit.get(id);
      const key = decisionOf.get(id)?.targetKey;
      if (at === undefined || key === undefined) continue;
      auditedAtOfTarget.set(key, Math.min(at, auditedAtOfTarget.get(key) ?? at));
    }
    const held = [...auditedAtOfTarget].flatMap(([key, at]) => {
      const revoked = revokedAt.get(key);
      return revoked === undefined ? [] : [Math.max(0, at - revoked)];
    });
    const revokedTimes = [...auditedAtOfTarget.keys()].flatMap((key) => {
      const at = revokedAt.get(key);
      return at === undefined ? [] : [at];
    });
    const floorSeconds = round(targets / rateLimitRps, 3);
    const lastAuditSeconds = seconds(lastAudit, startedAt);
    return {
      accountId,
      hub: index === 0,
      rateLimitRps,
      targets,
      messages: messagesOf.get(accountId) ?? 0,
      eventIds: eventIds.length,
      floorSeconds,
      lastAuditSeconds,
      lastAuditVsFloor:
        lastAuditSeconds === null ? null : round(lastAuditSeconds / floorSeconds, 2),
      lastRevokedSeconds: seconds(
        revokedTimes.length > 0 ? Math.max(...revokedTimes) : null,
        startedAt,
      ),
      disassociateCalls: disassociate,
      perSecond,
      amplification: round(disassociate.total / targets, 3),
      heldAfterRevokeMs: {
        median: held.length > 0 ? round(quantile(held, 0.5), 0) : null,
        p90: held.length > 0 ? round(quantile(held, 0.9), 0) : null,
        max: held.length > 0 ? Math.max(...held) : null,
      },
      assumeRoleCalls:
        index === 0 ? null : (trace.extra[roleArnOf(accountId, settings.roleName)] ?? 0),
    };
  });
};

/** The STS seed: the hub with no roles, each spoke with the role, trusting the hub's role. */
const accountsSeed = (settings: StormMultiAccountSettings, hubAccountId: string) => ({
  accounts: Object.fromEntries(
    settings.accounts.map(({ accountId }) => [
      accountId,
      {
        roles:
          accountId === hubAccountId
            ? []
            : [
                {
                  name: settings.roleName,
                  externalId: settings.externalId,
                  trusts: [roleArnOf(hubAccountId, 'datashare-revoker')],
                  maxSessionDurationSeconds: 3600,
                },
              ],
      },
    ]),
  ),
});

/** One side, on a fresh stack whose Redshift limits each account on its own bucket. */
export const runStormMultiAccountSide = async (
  kind: ContainerKind,
  settings: StormMultiAccountSettings,
  progress: Progress,
): Promise<StormMultiAccountSide> => {
  const [hub, ...spokes] = settings.accounts;
  if (!hub || spokes.length === 0)
    throw new RangeError(
      `stormMultiAccount needs the hub and at least one spoke; ${settings.accounts.length} accounts given`,
    );
  const spokeRoles = spokes.map((s) => roleArnOf(s.accountId, settings.roleName));
  // Both sides: the baseline acts through the same role.
  const hubEnv = {
    CONSUMER_ROLE_NAME: settings.roleName,
    CONSUMER_ACCOUNTS: spokes.map((s) => s.accountId).join(','),
    CONSUMER_ROLE_EXTERNAL_ID: settings.externalId,
  };
  const { side, trace } = await runStormSideOn(
    kind,
    {
      ...settings,
      workerEnv: { ...hubEnv, ...settings.workerEnv },
      // The guardrails as everywhere, hub mode with this scenario's spokes.
      workerConfiguration: { ...settings.workerConfiguration, ...hubEnv },
    },
    progress,
    {
      label: 'storm_accounts',
      consumerAccounts: settings.accounts.map((a) => a.accountId),
      host: {
        consumerAccountId: hub.accountId,
        accounts: accountsSeed(settings, hub.accountId),
        redshiftFaults: {
          throttleRps: 0,
          throttleRpsByAccount: Object.fromEntries(
            settings.accounts.map((a) => [a.accountId, a.rateLimitRps]),
          ),
          burst: settings.burst,
          latencyMs: settings.latencyMs,
        },
      },
      floorSeconds: multiAccountFloorSeconds(settings),
      collect: (host) => host.call('assumeRoleCounts', spokeRoles),
    },
  );
  return { ...side, accounts: accountFigures(settings, trace) };
};

/** Both sides, one after the other, each on its own fresh stack. */
export const runStormMultiAccount = async (
  settings: StormMultiAccountSettings,
  progress: Progress,
  sides: readonly ContainerKind[] = ['worker', 'baseline'],
): Promise<StormMultiAccountResult> => {
  const result: StormMultiAccountResult = {
    settings,
    floorSeconds: round(multiAccountFloorSeconds(settings), 3),
  };
  for (const kind of sides) {
    progress.step(`stormMultiAccount / ${kind}`);
    const side = await runStormMultiAccountSide(kind, settings, progress);
    result[kind] = side;
    const lastAudits = side.accounts
      .map((a) => `${a.accountId} ${a.lastAuditSeconds ?? '—'} s (floor ${a.floorSeconds})`)
      .join(', ');
    progress.done(
      side.drained
        ? `drained in ${side.drainSeconds} s (T/T0 ${side.drainRatio}), ${side.disassociateCalls.total} disassociate calls (${side.throttledCalls} throttled); last audit per account: ${lastAudits}`
        : `NOT drained after ${side.stoppedAfterSeconds} s: ${side.queue.leftInQueue} messages left, ${side.audit.auditedEventIds}/${side.audit.expectedEventIds} eventIds audited`,
    );
  }
  return result;
};
