import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { element, memberList, queryErrorXml, querySuccessXml } from '../aws-query.js';
import { readBody, sendText } from '../http.js';
import {
  CLOUDFORMATION_XML_NAMESPACE,
  CloudFormationApiError,
  type CloudFormationFaults,
  type EmulatedStack,
} from './types.js';

/** A stack as stored: with the id and creation time AWS assigns. */
export interface StoredStack extends EmulatedStack {
  stackId: string;
  creationTime: Date;
}

export interface DescribeStacksDependencies {
  stacks: () => readonly StoredStack[];
  faults: CloudFormationFaults;
  /** Counts every API call received (admin routes are not counted). */
  onCall: (action: string, outcome: string) => void;
}

const stackXml = (stack: StoredStack): string =>
  element('StackId', stack.stackId) +
  element('StackName', stack.stackName) +
  element('CreationTime', stack.creationTime) +
  element('StackStatus', stack.stackStatus ?? 'CREATE_COMPLETE') +
  memberList(
    'Outputs',
    Object.entries(stack.outputs).map(
      ([key, value]) => element('OutputKey', key) + element('OutputValue', value),
    ),
  );

const INJECTED = {
  Throttling: new CloudFormationApiError('Throttling', 'Rate exceeded', 400),
  ServiceUnavailable: new CloudFormationApiError(
    'ServiceUnavailable',
    'Service is unavailable',
    503,
  ),
} as const;

/**
 * Serves `DescribeStacks` (awsQuery: `Action=DescribeStacks&Version=2010-05-15&StackName=...`):
 * by name or stack id, or every stack when no name is given. An unknown stack is AWS's 400
 * `ValidationError` "Stack with id NAME does not exist"; any other action is `InvalidAction`.
 */
export const createDescribeStacksHandler =
  ({ stacks, faults, onCall }: DescribeStacksDependencies) =>
  async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const params = new URLSearchParams((await readBody(request)).toString('utf8'));
    const action = params.get('Action') ?? '(none)';
    const fail = (error: CloudFormationApiError, outcome: string) => {
      onCall(action, outcome);
      sendText(
        response,
        error.httpStatus,
        'text/xml',
        queryErrorXml(CLOUDFORMATION_XML_NAMESPACE, error, requestId),
        requestId,
      );
    };
    if (faults.failNextCalls > 0) {
      faults.failNextCalls -= 1;
      return fail(INJECTED[faults.code], 'injected');
    }
    if (action !== 'DescribeStacks') {
      return fail(
        new CloudFormationApiError(
          'InvalidAction',
          `The action ${action} is not valid for this web service (the emulator serves DescribeStacks).`,
        ),
        'rejected',
      );
    }
    const name = params.get('StackName');
    const all = stacks();
    const found = name ? all.filter((s) => s.stackName === name || s.stackId === name) : all;
    if (name && found.length === 0) {
      return fail(
        new CloudFormationApiError('ValidationError', `Stack with id ${name} does not exist`),
        'rejected',
      );
    }
    onCall(action, 'ok');
    sendText(
      response,
      200,
      'text/xml',
      querySuccessXml(
        CLOUDFORMATION_XML_NAMESPACE,
        'DescribeStacks',
        memberList('Stacks', found.map(stackXml)),
        requestId,
      ),
      requestId,
    );
  };
