import type { IncomingMessage } from 'node:http';

/**
 * Who signed a request, as the emulators see it: the account and principal behind the access key
 * of the SigV4 credential scope. Shared by the STS emulator (which issues keys) and the Redshift
 * emulator (which acts in the caller's account).
 */
export interface CallerIdentity {
  accountId: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>`: what `GetCallerIdentity` answers. */
  arn: string;
  /** `<role id>:<session>`: `GetCallerIdentity`'s `UserId`. */
  userId: string;
  /** `arn:aws:iam::<account>:role/<role>`: the role whose session signed the call. */
  roleArn: string;
  sessionName: string;
  accessKeyId: string;
  /** True for keys the STS emulator issued; false for the static local key (the hub's own). */
  temporary: boolean;
}

/** A key the emulators refuse, with the code and text AWS answers (HTTP 403). */
export interface CallerRefusal {
  code: 'ExpiredToken' | 'InvalidClientTokenId';
  message: string;
}

export type CallerResolution =
  | { ok: true; caller: CallerIdentity }
  | { ok: false; refusal: CallerRefusal };

/** Resolves the access key (and session token) a request was signed with to its caller. */
export interface CallerDirectory {
  resolve(accessKeyId: string | undefined, sessionToken: string | undefined): CallerResolution;
}

/** The role the worker runs as in its own account (its Lambda execution role, locally). */
export const DEFAULT_HUB_ROLE_NAME = 'datashare-revoker';
/** The session name the static local key stands for (Lambda names sessions by function). */
export const HUB_SESSION_NAME = 'local';

/**
 * The caller behind every static key (`local`, or anything not issued by the STS emulator): the
 * worker's own role session in its own account. On Lambda that is an assumed-role session too,
 * which is why an `AssumeRole` from it is role chaining (at most one hour).
 */
export const hubCaller = (
  accountId: string,
  accessKeyId: string,
  roleName: string = DEFAULT_HUB_ROLE_NAME,
): CallerIdentity => ({
  accountId,
  arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${HUB_SESSION_NAME}`,
  userId: `AROA${accountId}HUB:${HUB_SESSION_NAME}`,
  roleArn: `arn:aws:iam::${accountId}:role/${roleName}`,
  sessionName: HUB_SESSION_NAME,
  accessKeyId,
  temporary: false,
});

/** The directory of a single-account emulator: every key is the hub's own. */
export const singleAccountDirectory = (accountId: string): CallerDirectory => ({
  resolve: (accessKeyId) => ({ ok: true, caller: hubCaller(accountId, accessKeyId ?? 'local') }),
});

// SigV4: `Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...`
const CREDENTIAL_SCOPE = /Credential=([^/,\s]+)\//;

/** The access key of the request's SigV4 credential scope, if it is signed. */
export const accessKeyOf = (request: IncomingMessage): string | undefined => {
  const header = request.headers.authorization;
  return header === undefined ? undefined : CREDENTIAL_SCOPE.exec(header)?.[1];
};

/** The session token sent with temporary credentials (`X-Amz-Security-Token`). */
export const sessionTokenOf = (request: IncomingMessage): string | undefined => {
  const header = request.headers['x-amz-security-token'];
  return Array.isArray(header) ? header[0] : header;
};

/** Resolves the caller of a request through a directory. */
export const resolveCaller = (
  directory: CallerDirectory,
  request: IncomingMessage,
): CallerResolution => directory.resolve(accessKeyOf(request), sessionTokenOf(request));
