import { randomBytes } from 'node:crypto';
import {
  type CallerDirectory,
  type CallerIdentity,
  type CallerResolution,
  DEFAULT_HUB_ROLE_NAME,
  hubCaller,
} from '../caller-identity.js';

/** Temporary credentials the emulator issued, and whose they are. */
export interface IssuedSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch milliseconds after which the key is refused with `ExpiredToken`. */
  expiresAt: number;
  issuedAt: number;
  caller: CallerIdentity;
  /** The ARN of the principal that called `AssumeRole`. */
  issuedTo: string;
  sourceIdentity?: string;
}

/**
 * `ASIA` + the 12-digit account + a 4-character serial: 20 characters like a real key, so the
 * account can be read off a key in any log (`ASIA222233334444000A` is account 222233334444).
 * The role and session are looked up by key in the store.
 */
export const ISSUED_KEY = /^ASIA(\d{12})[0-9A-Z]{4}$/;

/** The account an issued key belongs to, or undefined for a static key. */
export const accountOfIssuedKey = (accessKeyId: string): string | undefined =>
  ISSUED_KEY.exec(accessKeyId)?.[1];

const SERIAL_SPACE = 36 ** 4;

const token = (bytes: number) => randomBytes(bytes).toString('base64');

/**
 * The credentials issued so far, and the directory both emulators resolve callers with: an
 * issued key is its role session (refused once expired, or with a wrong session token); any
 * other key is the hub's own static key.
 */
export class CredentialStore implements CallerDirectory {
  private readonly sessions = new Map<string, IssuedSession>();
  private serial = 0;

  constructor(
    readonly hubAccountId: string,
    readonly hubRoleName: string = DEFAULT_HUB_ROLE_NAME,
    private readonly now: () => number = Date.now,
  ) {}

  issue(input: {
    caller: Omit<CallerIdentity, 'accessKeyId' | 'temporary'>;
    lifetimeSeconds: number;
    issuedTo: string;
    sourceIdentity?: string;
  }): IssuedSession {
    this.serial = (this.serial + 1) % SERIAL_SPACE;
    const serial = this.serial.toString(36).toUpperCase().padStart(4, '0');
    const accessKeyId = `ASIA${input.caller.accountId}${serial}`;
    const issuedAt = this.now();
    const session: IssuedSession = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64').slice(0, 40),
      sessionToken: `IQoJb3JpZ2luX2VjE${token(96)}`,
      issuedAt,
      expiresAt: issuedAt + input.lifetimeSeconds * 1000,
      caller: { ...input.caller, accessKeyId, temporary: true },
      issuedTo: input.issuedTo,
      ...(input.sourceIdentity === undefined ? {} : { sourceIdentity: input.sourceIdentity }),
    };
    this.sessions.set(accessKeyId, session);
    return session;
  }

  resolve(accessKeyId: string | undefined, sessionToken: string | undefined): CallerResolution {
    const key = accessKeyId ?? 'local';
    if (!ISSUED_KEY.test(key))
      return { ok: true, caller: hubCaller(this.hubAccountId, key, this.hubRoleName) };
    const session = this.sessions.get(key);
    if (!session || session.sessionToken !== sessionToken) {
      return {
        ok: false,
        refusal: {
          code: 'InvalidClientTokenId',
          message: 'The security token included in the request is invalid.',
        },
      };
    }
    if (this.now() >= session.expiresAt) {
      return {
        ok: false,
        refusal: {
          code: 'ExpiredToken',
          message: 'The security token included in the request is expired',
        },
      };
    }
    return { ok: true, caller: session.caller };
  }

  /** Every session issued, oldest first. */
  list(): IssuedSession[] {
    return [...this.sessions.values()].map((session) => structuredClone(session));
  }

  /**
   * Makes the matching sessions expire now (all when `roleArn` is absent), so the next call with
   * them is `ExpiredToken`: the "credentials ran out mid-batch" case. Returns how many.
   */
  expire(roleArn?: string): number {
    let expired = 0;
    const now = this.now();
    for (const session of this.sessions.values()) {
      if (roleArn !== undefined && session.caller.roleArn !== roleArn) continue;
      if (session.expiresAt > now) expired += 1;
      session.expiresAt = Math.min(session.expiresAt, now);
    }
    return expired;
  }

  clear(): void {
    this.sessions.clear();
    this.serial = 0;
  }
}
