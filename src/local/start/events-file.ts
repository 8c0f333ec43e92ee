import { readFile } from 'node:fs/promises';
import { parseMessageBody } from '../../core/parse.js';
import { type DisassociationTarget, targetKey, targetOf } from '../../core/target.js';
import { DEFAULT_CONSUMER_ACCOUNT_ID } from '../redshift-emulator/index.js';
import { InputFileError } from './errors.js';

/** One message of the events file, as `npm start` sends it. */
export interface EventLine {
  /** 1-based line number in the file. */
  line: number;
  /** The SQS message body, exactly as written on the line. */
  body: string;
  /** The eventId the worker will read: null when there is none it can read (bad JSON). */
  eventId: string | null;
  /** What the worker will disassociate; undefined when it will reject the body. */
  target: DisassociationTarget | undefined;
  /** Whether the worker will accept the body (`false`: REJECTED). */
  valid: boolean;
  /** The sending wave, from 0: see {@link planWaves}. */
  wave: number;
}

/**
 * Puts each message in a sending wave; the start script sends a wave once the one before is
 * drained. A decision acts in the wave after the last decision for its target; a copy of an
 * eventId goes in the wave after the copy that acts for it (the first one).
 *
 * Why: with two pollers, a copy received while its original is still being processed is "in
 * progress elsewhere" (rule 3) and comes back only after the queue's visibility timeout (30 s),
 * and two eventIds for one target race for one Redshift call. Sent in waves, a repeat always meets
 * a finished decision — a copy is acknowledged without a call (rule 2), an earlier decision for a
 * confirmed target is ALREADY_REVOKED (rule 5) — so the outcomes are the same on every run, and
 * the run never waits 30 s. Copies do not act, so they share a wave and push nothing back; dry
 * runs neither call Redshift nor confirm a target, so they go first.
 */
export const planWaves = (bodies: readonly { line: number; body: string }[]): EventLine[] => {
  const firstWaveOfEvent = new Map<string, number>();
  const lastWaveOfTarget = new Map<string, number>();
  return bodies.map(({ line, body }) => {
    const parsed = parseMessageBody(body);
    if (!parsed.ok) {
      return {
        line,
        body,
        eventId: parsed.rejection.eventId,
        target: undefined,
        valid: false,
        wave: 0,
      };
    }
    const { eventId } = parsed.request;
    // Waves only order the demo's sends: the local worker's own account stands for any omitted one.
    const target = targetOf(parsed.request, DEFAULT_CONSUMER_ACCOUNT_ID);
    const first = firstWaveOfEvent.get(eventId);
    if (first !== undefined) return { line, body, eventId, target, valid: true, wave: first + 1 };
    if (parsed.request.dryRun === true) {
      // A dry run makes no Redshift call and confirms nothing: it waits for no one.
      firstWaveOfEvent.set(eventId, 0);
      return { line, body, eventId, target, valid: true, wave: 0 };
    }
    const key = targetKey(target);
    const wave = (lastWaveOfTarget.get(key) ?? -1) + 1;
    firstWaveOfEvent.set(eventId, wave);
    lastWaveOfTarget.set(key, wave);
    return { line, body, eventId, target, valid: true, wave };
  });
};

/**
 * Reads a JSONL events file: one SQS message body a line; blank lines are skipped. Lines are not
 * checked here — a malformed one is sent as it is and the worker rejects it.
 *
 * @throws {InputFileError} when the file cannot be read or holds no message.
 */
export const readEventsFile = async (path: string): Promise<EventLine[]> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputFileError(path, `cannot read the events file (${(error as Error).message})`, {
      cause: error,
    });
  }
  const bodies = text
    .split(/\r?\n/)
    .map((body, index) => ({ line: index + 1, body }))
    .filter(({ body }) => body.trim() !== '');
  if (bodies.length === 0) {
    throw new InputFileError(path, 'the events file holds no message (one SQS body a line)');
  }
  return planWaves(bodies);
};

/** The lines of each wave, in wave order. */
export const wavesOf = (lines: readonly EventLine[]): EventLine[][] => {
  const waves: EventLine[][] = [];
  for (const line of lines) {
    const wave = waves[line.wave] ?? [];
    wave.push(line);
    waves[line.wave] = wave;
  }
  return waves.filter((wave) => wave.length > 0);
};
