/**
 * The conservation run's workload: a seeded stream of revocation requests as a busy policy engine
 * would send them — several decisions per target, resends of the same eventId, some dry runs and
 * some bodies that break the contract. A stream, so that a soak of any size holds only the last
 * hundred decisions, not every message.
 */
import {
  dataShareArn,
  MALFORMED_BODIES,
  namespaceArn,
  revocationRequest,
  type Target,
} from '../fixtures.js';

export interface WorkloadOptions {
  /** Datashares × consumers per datashare = targets that get real decisions. */
  datashares: number;
  consumersPerDatashare: number;
  /** Targets that only ever get dry runs. */
  dryRunTargets: number;
  malformedShare: number;
  duplicateShare: number;
  dryRunShare: number;
  /**
   * Every request's `issuedAt`: one instant before the run, so that a confirmed revocation
   * satisfies every later decision on its target (rule 5) however long the run lasts.
   */
  issuedAt: string;
}

/** One message to send. */
export type WorkloadMessage =
  | { kind: 'decision'; eventId: string; target: Target; dryRun: boolean; body: string }
  | { kind: 'malformed'; body: string };

export interface WorkloadStream {
  targets: readonly Target[];
  dryRunTargets: readonly Target[];
  /** The next `count` messages. */
  take(count: number): WorkloadMessage[];
}

const pick = <T>(items: readonly T[], random: () => number): T =>
  items[Math.floor(random() * items.length)] as T;

const shuffle = <T>(items: readonly T[], random: () => number): T[] => {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
};

/**
 * New decisions visit the targets in rounds (each round a new shuffle of every target), so two
 * decisions on one target are a round apart: a confirmed revocation then satisfies the later ones
 * (rule 5) and a target gets one Redshift call, plus retries. A resend is either the very next
 * message (same batch: rule 1) or a copy of a recent decision (concurrent or completed: rules 2
 * and 3).
 */
export const createWorkloadStream = (
  options: WorkloadOptions,
  random: () => number,
): WorkloadStream => {
  const targets: Target[] = [];
  for (let d = 0; d < options.datashares; d++) {
    for (let c = 0; c < options.consumersPerDatashare; c++) {
      // Every fifth consumer lives in another region: its call goes to that region's client.
      const region = c % 5 === 4 ? 'eu-west-1' : 'us-east-1';
      targets.push({
        dataShareArn: dataShareArn(`conservation_${d}`),
        consumerArn: namespaceArn(`c${d}-${c}`, region),
      });
    }
  }
  const dryRunTargets = Array.from({ length: options.dryRunTargets }, (_, i) => ({
    dataShareArn: dataShareArn('conservation_dry'),
    consumerArn: namespaceArn(`dry-${i}`),
  }));

  const recent: Extract<WorkloadMessage, { kind: 'decision' }>[] = [];
  let round: Target[] = [];
  let next = 0;
  let malformed = 0;
  const malformedKinds = Object.values(MALFORMED_BODIES);

  const nextMessage = (): WorkloadMessage => {
    const roll = random();
    if (roll < options.malformedShare) {
      malformed += 1;
      const make = pick(malformedKinds, random);
      return { kind: 'malformed', body: make(malformed, pick(targets, random)) };
    }
    if (roll < options.malformedShare + options.duplicateShare && recent.length > 0)
      return random() < 0.35 ? (recent.at(-1) as (typeof recent)[number]) : pick(recent, random);
    const dryRun = roll > 1 - options.dryRunShare;
    let target: Target;
    if (dryRun) target = pick(dryRunTargets, random);
    else {
      if (round.length === 0) round = shuffle(targets, random);
      target = round.pop() as Target;
    }
    next += 1;
    const eventId = `conservation/${next}`;
    const body = JSON.stringify(
      revocationRequest(eventId, target, {
        issuedAt: options.issuedAt,
        ...(dryRun ? { dryRun } : {}),
      }),
    );
    const message = { kind: 'decision' as const, eventId, target, dryRun, body };
    recent.push(message);
    if (recent.length > 100) recent.shift();
    return message;
  };

  return {
    targets,
    dryRunTargets,
    take: (count) => Array.from({ length: count }, nextMessage),
  };
};
