import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { accessKeyOf, resolveCaller } from '../caller-identity.js';
import { pause, readBody, resetConnection, sendText } from '../http.js';
import { QueryParams } from '../redshift-emulator/query-params.js';
import type { StsCallLog, StsCallOutcome } from './call-log.js';
import type { CredentialStore } from './credential-store.js';
import { assumeRoleDenied, StsApiError } from './errors.js';
import type { InjectedStsFault, StsFaultPlan } from './faults.js';
import { STS_OPERATION_HANDLERS, type StsOperationResult } from './operations.js';
import type { RoleDirectory } from './roles.js';
import { STS_OPERATIONS, type StsOperation } from './types.js';
import { errorXml, successXml } from './xml.js';

export interface StsQueryHandlerDependencies {
  roles: RoleDirectory;
  credentials: CredentialStore;
  faults: StsFaultPlan;
  log: StsCallLog;
}

const isOperation = (action: string | undefined): action is StsOperation =>
  (STS_OPERATIONS as readonly string[]).includes(action ?? '');

const OUTCOME_OF_FAULT: Record<InjectedStsFault['kind'], StsCallOutcome> = {
  throttle: 'throttled',
  error: 'error',
  unavailable: 'error',
  accessDenied: 'accessDenied',
  hang: 'hang',
  reset: 'reset',
};

/** The awsQuery error an injected fault answers with (a hang or a reset answers nothing). */
const faultError = (fault: InjectedStsFault, callerArn: string, roleArn: string): StsApiError => {
  const base: Record<string, readonly [string, string, number]> = {
    throttle: ['Throttling', 'Rate exceeded', 400],
    error: [
      'InternalFailure',
      'The request processing has failed because of an unknown error, exception or failure.',
      500,
    ],
    unavailable: [
      'ServiceUnavailable',
      'The request has failed due to a temporary failure of the server.',
      503,
    ],
    accessDenied: ['AccessDenied', assumeRoleDenied(callerArn, roleArn).message, 403],
  };
  const [code, message, status] = base[fault.kind] ?? base.error ?? ['InternalFailure', '', 500];
  return new StsApiError(fault.code ?? code, fault.message ?? message, fault.httpStatus ?? status);
};

/**
 * Serves the emulated awsQuery API: reads the form body, resolves the caller from the SigV4 key,
 * lets the fault plan decide, runs the operation and answers in the shape the SDK deserializes.
 */
export const createStsQueryHandler =
  ({ roles, credentials, faults, log }: StsQueryHandlerDependencies) =>
  async (request: IncomingMessage, response: ServerResponse, signal: AbortSignal) => {
    const requestId = randomUUID();
    const body = (await readBody(request)).toString('utf8');
    const params = QueryParams.parse(
      request.method === 'GET' ? new URL(request.url ?? '/', 'http://e').search.slice(1) : body,
    );
    const action = params.optionalString('Action');
    const roleArn = params.optionalString('RoleArn');
    const durationRaw = params.optionalString('DurationSeconds');
    const accessKeyId = accessKeyOf(request);
    const sessionName = params.optionalString('RoleSessionName');
    const sourceIdentity = params.optionalString('SourceIdentity');
    const subject = {
      at: Date.now(),
      operation: action ?? '(none)',
      ...(accessKeyId === undefined ? {} : { accessKeyId }),
      ...(action === 'AssumeRole'
        ? {
            ...(roleArn === undefined ? {} : { roleArn }),
            ...(sessionName === undefined ? {} : { roleSessionName: sessionName }),
            externalIdGiven: params.optionalString('ExternalId') !== undefined,
            ...(durationRaw === undefined || Number.isNaN(Number(durationRaw))
              ? {}
              : { durationSeconds: Number(durationRaw) }),
            ...(sourceIdentity === undefined ? {} : { sourceIdentity }),
          }
        : {}),
    };

    const answer = async (status: number, xml: string): Promise<void> => {
      await pause(faults.current.latencyMs, signal);
      if (!signal.aborted) sendText(response, status, 'text/xml', xml, requestId);
    };
    const reject = (error: StsApiError, extra: object = {}) => {
      log.record({
        ...subject,
        ...extra,
        outcome: 'rejected',
        code: error.code,
        httpStatus: error.httpStatus,
        injected: false,
        issued: false,
      });
      return answer(error.httpStatus, errorXml(error, requestId));
    };

    if (!isOperation(action)) {
      return reject(
        new StsApiError(
          'InvalidAction',
          `Could not find operation ${action ?? '(none)'} for version ${params.optionalString('Version') ?? '(none)'}`,
        ),
      );
    }
    const resolution = resolveCaller(credentials, request);
    if (!resolution.ok) {
      const { code, message } = resolution.refusal;
      return reject(new StsApiError(code, message, 403));
    }
    const { caller } = resolution;
    const who = { callerAccountId: caller.accountId, callerArn: caller.arn };

    const fault = faults.decide({
      operation: action,
      ...(roleArn === undefined ? {} : { roleArn }),
    });
    let result: StsOperationResult | StsApiError | undefined;
    if (fault?.when !== 'before') {
      try {
        result = STS_OPERATION_HANDLERS[action](params, {
          caller,
          roles,
          credentials,
          lifetimeOverrideSeconds: faults.current.credentialLifetimeSeconds,
        });
      } catch (error) {
        if (!(error instanceof StsApiError)) throw error;
        result = error;
      }
    }
    const issued =
      result !== undefined && !(result instanceof StsApiError) ? result.issued : undefined;
    const issuedFields = issued
      ? {
          issued: true,
          issuedAccessKeyId: issued.accessKeyId,
          expiration: new Date(issued.expiresAt).toISOString(),
        }
      : { issued: false };

    if (fault) {
      const outcome = OUTCOME_OF_FAULT[fault.kind];
      const lostAnswer = fault.when === 'after';
      if (fault.kind === 'hang' || fault.kind === 'reset') {
        log.record({ ...subject, ...who, outcome, injected: true, ...issuedFields, lostAnswer });
        if (fault.kind === 'reset') resetConnection(request);
        return;
      }
      const error = faultError(fault, caller.arn, roleArn ?? '*');
      log.record({
        ...subject,
        ...who,
        outcome,
        code: error.code,
        httpStatus: error.httpStatus,
        injected: true,
        ...issuedFields,
        lostAnswer,
      });
      return answer(error.httpStatus, errorXml(error, requestId));
    }

    if (result instanceof StsApiError) return reject(result, who);
    log.record({ ...subject, ...who, outcome: 'ok', injected: false, ...issuedFields });
    return answer(200, successXml(action, result?.resultXml ?? '', requestId));
  };
