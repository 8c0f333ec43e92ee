import type { CallerIdentity } from '../caller-identity.js';
import type { QueryParams } from '../redshift-emulator/query-params.js';
import type { CredentialStore, IssuedSession } from './credential-store.js';
import { assumeRoleDenied, StsApiError, validationError } from './errors.js';
import { ROLE_ARN, type RoleDirectory, trusts } from './roles.js';
import type { StsOperation } from './types.js';
import { element } from './xml.js';

/** What an operation produced: the inner XML of `<XResult>`, and the session it issued. */
export interface StsOperationResult {
  resultXml: string;
  issued?: IssuedSession;
}

export interface StsOperationContext {
  caller: CallerIdentity;
  roles: RoleDirectory;
  credentials: CredentialStore;
  /** Overrides `DurationSeconds` when set (the `credentialLifetimeSeconds` knob). */
  lifetimeOverrideSeconds: number | null;
}

type Operation = (params: QueryParams, context: StsOperationContext) => StsOperationResult;

/** The default session duration of `AssumeRole` (one hour). */
export const DEFAULT_DURATION_SECONDS = 3600;
/** Role chaining (an assumed-role session assuming a role) is capped at one hour. */
const ROLE_CHAINING_LIMIT_SECONDS = 3600;

// [\w+=,.@-]: RoleSessionName and SourceIdentity; ExternalId also allows ':' and '/'.
const SESSION_NAME = /^[\w+=,.@-]*$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]*$/;

/**
 * Reads a string parameter under STS's constraints, answering `ValidationError` with AWS's
 * "Value '…' at '<member>' failed to satisfy constraint: …" text.
 */
const constrained = (
  params: QueryParams,
  name: string,
  {
    required,
    min,
    max,
    pattern,
  }: { required: boolean; min: number; max: number; pattern?: RegExp },
): string | undefined => {
  const value = params.optionalString(name);
  const member = name.charAt(0).toLowerCase() + name.slice(1);
  if (value === undefined) {
    if (required)
      throw validationError(
        `Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      );
    return undefined;
  }
  const fail = (rule: string) =>
    validationError(`Value '${value}' at '${member}' failed to satisfy constraint: ${rule}`);
  if (value.length < min) throw fail(`Member must have length greater than or equal to ${min}`);
  if (value.length > max) throw fail(`Member must have length less than or equal to ${max}`);
  if (pattern && !pattern.test(value)) {
    throw fail(`Member must satisfy regular expression pattern: ${pattern.source.slice(1, -1)}`);
  }
  return value;
};

const durationOf = (params: QueryParams): number => {
  const raw = params.optionalString('DurationSeconds');
  if (raw === undefined) return DEFAULT_DURATION_SECONDS;
  const value = Number(raw);
  const fail = (rule: string) =>
    validationError(`Value '${raw}' at 'durationSeconds' failed to satisfy constraint: ${rule}`);
  if (!Number.isInteger(value)) throw fail('Member must be an integer');
  if (value < 900) throw fail('Member must have value greater than or equal to 900');
  if (value > 43200) throw fail('Member must have value less than or equal to 43200');
  return value;
};

/** AWS's ISO 8601 form: whole seconds, `Z`. */
const awsTimestamp = (epochMs: number): string =>
  new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

const assumeRole: Operation = (params, { caller, roles, credentials, lifetimeOverrideSeconds }) => {
  const roleArn = constrained(params, 'RoleArn', { required: true, min: 20, max: 2048 }) as string;
  const sessionName = constrained(params, 'RoleSessionName', {
    required: true,
    min: 2,
    max: 64,
    pattern: SESSION_NAME,
  }) as string;
  const externalId = constrained(params, 'ExternalId', {
    required: false,
    min: 2,
    max: 1224,
    pattern: EXTERNAL_ID,
  });
  const sourceIdentity = constrained(params, 'SourceIdentity', {
    required: false,
    min: 2,
    max: 64,
    pattern: SESSION_NAME,
  });
  const durationSeconds = durationOf(params);
  // Unconfirmed wording: AWS answers a RoleArn that is no ARN at all with "<value> is invalid".
  if (!ROLE_ARN.test(roleArn)) throw new StsApiError('ValidationError', `${roleArn} is invalid`);

  // Unknown role, untrusted caller, missing or wrong ExternalId: one answer for all three.
  const role = roles.find(roleArn);
  if (
    !role ||
    !trusts(role, caller) ||
    (role.externalId !== undefined && role.externalId !== externalId)
  ) {
    throw assumeRoleDenied(caller.arn, roleArn);
  }
  if (durationSeconds > role.maxSessionDurationSeconds) {
    throw new StsApiError(
      'ValidationError',
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  }
  // Every caller here is a role session (the hub's key stands for its Lambda role's session),
  // so every AssumeRole is role chaining.
  if (durationSeconds > ROLE_CHAINING_LIMIT_SECONDS) {
    throw new StsApiError(
      'ValidationError',
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  }

  const session = credentials.issue({
    caller: {
      accountId: role.accountId,
      arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`,
      userId: `${role.roleId}:${sessionName}`,
      roleArn: role.arn,
      sessionName,
    },
    lifetimeSeconds: lifetimeOverrideSeconds ?? durationSeconds,
    issuedTo: caller.arn,
    ...(sourceIdentity === undefined ? {} : { sourceIdentity }),
  });
  return {
    resultXml:
      '<Credentials>' +
      element('AccessKeyId', session.accessKeyId) +
      element('SecretAccessKey', session.secretAccessKey) +
      element('SessionToken', session.sessionToken) +
      element('Expiration', awsTimestamp(session.expiresAt)) +
      '</Credentials>' +
      '<AssumedRoleUser>' +
      element('AssumedRoleId', session.caller.userId) +
      element('Arn', session.caller.arn) +
      '</AssumedRoleUser>' +
      element('SourceIdentity', sourceIdentity),
    issued: session,
  };
};

const getCallerIdentity: Operation = (_params, { caller }) => ({
  resultXml:
    element('UserId', caller.userId) +
    element('Account', caller.accountId) +
    element('Arn', caller.arn),
});

/** The emulated operations, by `Action`. */
export const STS_OPERATION_HANDLERS: Record<StsOperation, Operation> = {
  AssumeRole: assumeRole,
  GetCallerIdentity: getCallerIdentity,
};
