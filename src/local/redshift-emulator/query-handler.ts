import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { accessKeyOf, type CallerDirectory, resolveCaller } from '../caller-identity.js';
import { pause, readBody, resetConnection, sendText } from '../http.js';
import type { CallLog, CallOutcome, RecordedCall } from './call-log.js';
import { consumerKeyOf, targetKeyOf } from './consumer-target.js';
import type { DataShareStore } from './datashare-store.js';
import { type CrossAccountAnswer, RedshiftApiError, refusedKey } from './errors.js';
import type { FaultPlan, InjectedFault } from './faults.js';
import { OPERATIONS, type OperationResult, type Visibility } from './operations.js';
import { QueryParams } from './query-params.js';
import { REDSHIFT_OPERATIONS, type RedshiftOperation } from './types.js';
import { errorXml, successXml } from './xml.js';

export interface QueryHandlerDependencies {
  store: DataShareStore;
  faults: FaultPlan;
  log: CallLog;
  /** Resolves the SigV4 access key to the calling account and role. */
  callers: CallerDirectory;
  visibility: Visibility;
  crossAccountAnswer: CrossAccountAnswer;
}

const isOperation = (action: string | undefined): action is RedshiftOperation =>
  (REDSHIFT_OPERATIONS as readonly string[]).includes(action ?? '');

const OUTCOME_OF_FAULT: Record<InjectedFault['kind'], CallOutcome> = {
  throttle: 'throttled',
  error: 'error',
  unavailable: 'error',
  accessDenied: 'accessDenied',
  hang: 'hang',
  reset: 'reset',
};

type AnsweredFault = InjectedFault & { kind: Exclude<InjectedFault['kind'], 'hang' | 'reset'> };

/** The awsQuery error an injected fault answers with (a hang or a reset answers nothing). */
const faultError = (
  fault: AnsweredFault,
  operation: string,
  resource: string,
  callerArn: string,
): RedshiftApiError => {
  const base = {
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
    accessDenied: [
      'AccessDenied',
      `User: ${callerArn} is not authorized to perform: redshift:${operation} on resource: ${resource}`,
      403,
    ],
  } as const satisfies Record<AnsweredFault['kind'], readonly [string, string, number]>;
  const [code, message, status] = base[fault.kind];
  return new RedshiftApiError(
    fault.code ?? code,
    fault.message ?? message,
    fault.httpStatus ?? status,
  );
};

/**
 * Serves the emulated awsQuery API: reads the form body, records the call, lets the fault plan
 * decide, runs the operation against the store and answers in the shape the SDK deserializes.
 */
export const createQueryHandler =
  ({ store, faults, log, callers, visibility, crossAccountAnswer }: QueryHandlerDependencies) =>
  async (request: IncomingMessage, response: ServerResponse, signal: AbortSignal) => {
    const requestId = randomUUID();
    const body = (await readBody(request)).toString('utf8');
    // Whether the answer reached the client: a client that gave up (its request timeout) closes
    // the connection before the answer is sent, and the call may have taken effect regardless.
    let recorded: RecordedCall | undefined;
    response.once('close', () => {
      if (recorded && !response.writableFinished) recorded.clientGone = true;
    });
    const journal = (call: Omit<RecordedCall, 'seq'>) => {
      recorded = log.record(call);
    };
    const params = QueryParams.parse(
      request.method === 'GET' ? new URL(request.url ?? '/', 'http://e').search.slice(1) : body,
    );
    const action = params.optionalString('Action');
    const dataShareArn = params.optionalString('DataShareArn');
    // AWS authenticates before anything else: a refused key is answered before faults and the
    // operation, and is recorded with the key but no caller.
    const resolution = resolveCaller(callers, request);
    const caller = resolution.ok ? resolution.caller : undefined;
    const accessKeyId = accessKeyOf(request);
    const consumer = consumerKeyOf(params, caller?.accountId ?? store.consumerAccountId);
    const subject = {
      at: Date.now(),
      operation: action ?? '(none)',
      requestId,
      ...(accessKeyId === undefined ? {} : { accessKeyId }),
      ...(caller === undefined
        ? {}
        : {
            callerAccountId: caller.accountId,
            callerArn: caller.arn,
            roleArn: caller.roleArn,
          }),
      ...(dataShareArn === undefined ? {} : { dataShareArn }),
      ...(consumer === undefined ? {} : { consumer }),
      ...(dataShareArn !== undefined && consumer !== undefined
        ? { targetKey: targetKeyOf(dataShareArn, consumer) }
        : {}),
    };

    const answer = async (status: number, xml: string): Promise<void> => {
      await pause(faults.current.latencyMs, signal);
      if (!signal.aborted) sendText(response, status, 'text/xml', xml, requestId);
    };
    const answerError = (error: RedshiftApiError) =>
      answer(error.httpStatus, errorXml(error, requestId));

    if (!isOperation(action)) {
      const error = new RedshiftApiError(
        'InvalidAction',
        `The action ${action ?? '(none)'} is not valid for this web service.`,
      );
      journal({
        ...subject,
        outcome: 'rejected',
        code: error.code,
        httpStatus: 400,
        injected: false,
        applied: false,
      });
      return answerError(error);
    }
    if (!resolution.ok) {
      const error = refusedKey(resolution.refusal.code, resolution.refusal.message);
      journal({
        ...subject,
        outcome: 'rejected',
        code: error.code,
        httpStatus: error.httpStatus,
        injected: false,
        applied: false,
      });
      return answerError(error);
    }
    const context = { caller: resolution.caller, visibility, crossAccountAnswer };

    const fault = faults.decide(subject);
    let result: OperationResult | RedshiftApiError | undefined;
    if (fault?.when !== 'before') {
      try {
        result = OPERATIONS[action](params, store, context);
      } catch (error) {
        if (!(error instanceof RedshiftApiError)) throw error;
        result = error;
      }
    }
    const applied = result !== undefined && !(result instanceof RedshiftApiError) && result.applied;

    if (fault) {
      const outcome = OUTCOME_OF_FAULT[fault.kind];
      const lostAnswer = fault.when === 'after';
      if (fault.kind === 'hang' || fault.kind === 'reset') {
        journal({ ...subject, outcome, injected: true, applied, lostAnswer });
        // A hung request keeps its socket until the client gives up or stop() destroys it.
        if (fault.kind === 'reset') resetConnection(request);
        return;
      }
      const error = faultError(
        fault as AnsweredFault,
        action,
        dataShareArn ?? '*',
        context.caller.arn,
      );
      journal({
        ...subject,
        outcome,
        code: error.code,
        httpStatus: error.httpStatus,
        injected: true,
        applied,
        lostAnswer,
      });
      return answerError(error);
    }

    if (result instanceof RedshiftApiError) {
      journal({
        ...subject,
        outcome: 'rejected',
        code: result.code,
        httpStatus: result.httpStatus,
        injected: false,
        applied: false,
      });
      return answerError(result);
    }
    journal({ ...subject, outcome: 'ok', injected: false, applied });
    return answer(200, successXml(action, result?.resultXml ?? '', requestId));
  };
