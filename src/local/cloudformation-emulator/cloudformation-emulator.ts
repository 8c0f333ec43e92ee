import { randomUUID } from 'node:crypto';
import {
  type AdminRoutes,
  isAdminRequest,
  serveAdminRoute,
  startLocalHttpServer,
} from '../http.js';
import { createDescribeStacksHandler, type StoredStack } from './describe-stacks.js';
import type { CloudFormationFaults, EmulatedStack } from './types.js';

export interface CloudFormationEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  region?: string;
  accountId?: string;
  /** The stacks that exist from the start. */
  stacks?: EmulatedStack[];
}

/** A running CloudFormation `DescribeStacks` emulator. */
export interface CloudFormationEmulator {
  /** `http://127.0.0.1:PORT`: give it as `endpoint` or `AWS_ENDPOINT_URL_CLOUDFORMATION`. */
  readonly endpoint: string;
  readonly port: number;
  readonly stacks: readonly StoredStack[];
  readonly faults: CloudFormationFaults;
  /** API calls received, by `<action> <outcome>` (`DescribeStacks ok`, `... rejected`, ...). */
  readonly calls: Readonly<Record<string, number>>;
  /** Creates or replaces a stack (by name). */
  putStack(stack: EmulatedStack): StoredStack;
  /** Deletes a stack; true when it existed. */
  deleteStack(stackName: string): boolean;
  /** The next `count` calls fail with `code` (default `Throttling`). */
  setFaults(faults: Partial<CloudFormationFaults>): CloudFormationFaults;
  stop(): Promise<void>;
}

const validFaults = (patch: unknown, current: CloudFormationFaults): CloudFormationFaults => {
  const p = (patch ?? {}) as Partial<CloudFormationFaults>;
  const next = { ...current, ...p };
  if (!Number.isInteger(next.failNextCalls) || next.failNextCalls < 0) {
    throw new TypeError(
      `failNextCalls: expected a whole number ≥ 0, given ${JSON.stringify(p.failNextCalls)}`,
    );
  }
  if (next.code !== 'Throttling' && next.code !== 'ServiceUnavailable') {
    throw new TypeError(
      `code: expected Throttling or ServiceUnavailable, given ${JSON.stringify(p.code)}`,
    );
  }
  return next;
};

/**
 * Starts a CloudFormation emulator on 127.0.0.1 that answers `DescribeStacks` (awsQuery) with
 * the stacks it holds, so `revoker --stage local` finds the local stack's resources exactly as it
 * finds a deployed stage's. Admin routes: `GET /__emulator/stacks`, `POST /__emulator/stacks`
 * (a stack: `{stackName, outputs}`), `POST /__emulator/faults` (`{failNextCalls, code}`).
 *
 * @example
 * const cfn = await startCloudFormationEmulator({
 *   stacks: [{ stackName: 'datashare-revoker-local', outputs: { SourceQueueUrl: url } }],
 * });
 * // AWS_ENDPOINT_URL_CLOUDFORMATION=cfn.endpoint revoker status --stage local
 * await cfn.stop();
 *
 * @throws {TypeError} on an invalid fault patch (admin route: answered 400).
 */
export const startCloudFormationEmulator = async (
  options: CloudFormationEmulatorOptions = {},
): Promise<CloudFormationEmulator> => {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const stacks = new Map<string, StoredStack>();
  const calls: Record<string, number> = {};
  // Changed in place: the handler holds this object.
  const faults: CloudFormationFaults = { failNextCalls: 0, code: 'Throttling' };
  const putStack = (stack: EmulatedStack): StoredStack => {
    if (typeof stack?.stackName !== 'string' || stack.stackName === '') {
      throw new TypeError(
        `stackName: expected a non-empty string, given ${JSON.stringify(stack?.stackName)}`,
      );
    }
    const stored: StoredStack = {
      ...stack,
      outputs: { ...(stack.outputs ?? {}) },
      stackId: `arn:aws:cloudformation:${region}:${accountId}:stack/${stack.stackName}/${randomUUID()}`,
      creationTime: stack.creationTime ?? new Date(),
    };
    stacks.set(stack.stackName, stored);
    return stored;
  };
  for (const stack of options.stacks ?? []) putStack(stack);
  const handler = createDescribeStacksHandler({
    stacks: () => [...stacks.values()],
    faults,
    onCall: (action, outcome) => {
      const key = `${action} ${outcome}`;
      calls[key] = (calls[key] ?? 0) + 1;
    },
  });
  let routes: AdminRoutes = {};
  const server = await startLocalHttpServer(
    (request, response) =>
      isAdminRequest(request)
        ? serveAdminRoute(request, response, routes)
        : handler(request, response),
    options.port ?? 0,
  );
  const emulator: CloudFormationEmulator = {
    endpoint: server.endpoint,
    port: server.port,
    get stacks() {
      return [...stacks.values()];
    },
    get faults() {
      return faults;
    },
    calls,
    putStack,
    deleteStack: (name) => stacks.delete(name),
    setFaults: (patch) => Object.assign(faults, validFaults(patch, faults)),
    stop: () => server.close(),
  };
  routes = {
    'GET /__emulator/stacks': () => ({ stacks: emulator.stacks, calls }),
    'POST /__emulator/stacks': (body) => putStack(body as EmulatedStack),
    'POST /__emulator/faults': (body) => ({ faults: emulator.setFaults(body as object) }),
  };
  return emulator;
};
