import { userInfo } from 'node:os';

/**
 * Who is running the command, for `revoker.replayedBy`. Injected, so that an STS-backed resolver
 * (`GetCallerIdentity`'s ARN) can replace the default once `@aws-sdk/client-sts` is a dependency.
 */
export type IdentityResolver = () => Promise<string>;

/** The operating-system user: not verified by AWS, but better than no trail at all. */
export const osUserIdentity: IdentityResolver = async () => {
  try {
    return userInfo().username || 'unknown';
  } catch {
    // userInfo() throws when the uid has no passwd entry (some containers).
    return 'unknown';
  }
};

/** Tries `primary` (e.g. STS), and falls back when it fails or answers nothing. */
export const withFallback =
  (primary: IdentityResolver, fallback: IdentityResolver = osUserIdentity): IdentityResolver =>
  async () => {
    try {
      const identity = await primary();
      if (identity) return identity;
    } catch {
      // No credentials or no permission for sts:GetCallerIdentity: fall back, never fail a replay.
    }
    return fallback();
  };
