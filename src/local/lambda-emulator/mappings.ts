import { randomUUID } from 'node:crypto';
import type { MappingControl } from '../esm/types.js';
import { LambdaApiError, type MappingOperations } from './rest-handler.js';
import { type EmulatedMapping, MappingState } from './types.js';

export type { MappingControl };

/** What creating a mapping takes (the stack creates the worker's own). */
export interface MappingInput {
  functionArn: string;
  eventSourceArn: string;
  batchSize?: number;
  maximumBatchingWindowInSeconds?: number;
  /** Default true. */
  enabled?: boolean;
  uuid?: string;
}

const FUNCTION_ARN =
  /^arn:([a-z0-9-]+):lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,64})$/;

const parseFunctionArn = (arn: string) => {
  const match = FUNCTION_ARN.exec(arn);
  if (!match)
    throw new TypeError(
      `functionArn: expected arn:<partition>:lambda:<region>:<account>:function:<name>; given ${JSON.stringify(arn)}`,
    );
  return { account: match[3] ?? '', name: match[4] ?? '' };
};

/**
 * Whether `FunctionName` as `ListEventSourceMappings` takes it (a name, an ARN, or a partial ARN
 * `<account>:function:<name>`, any of them with a `:qualifier`) names this function.
 */
export const functionNameMatches = (given: string, functionArn: string): boolean => {
  const { account, name } = parseFunctionArn(functionArn);
  const parts = given.split(':');
  if (given.startsWith('arn:')) return parts.slice(0, 7).join(':') === functionArn;
  if (parts[1] === 'function') return parts[0] === account && parts[2] === name;
  return parts[0] === name;
};

const ENABLED_STATES: ReadonlySet<MappingState> = new Set([
  MappingState.Enabled,
  MappingState.Enabling,
]);
const TRANSITIONAL: ReadonlySet<MappingState> = new Set([
  MappingState.Enabling,
  MappingState.Disabling,
]);

/** The mappings of one emulator, with the controls that carry out their changes. */
export class MappingTable implements MappingOperations {
  private readonly byUuid = new Map<string, EmulatedMapping>();
  private readonly controls = new Map<string, Set<(enabled: boolean) => Promise<void>>>();
  private readonly transitions = new Set<Promise<void>>();

  constructor(
    private readonly options: {
      transitionMs: () => number;
      sleep: (ms: number) => Promise<void>;
      onControlError: (error: unknown, uuid: string) => void;
    },
  ) {}

  /** @throws {TypeError} on a malformed function ARN or a duplicate UUID. */
  create(input: MappingInput): EmulatedMapping {
    parseFunctionArn(input.functionArn);
    const uuid = input.uuid ?? randomUUID();
    if (this.byUuid.has(uuid)) throw new TypeError(`uuid: mapping ${uuid} exists already`);
    const mapping: EmulatedMapping = {
      uuid,
      functionArn: input.functionArn,
      eventSourceArn: input.eventSourceArn,
      batchSize: input.batchSize ?? 10,
      maximumBatchingWindowInSeconds: input.maximumBatchingWindowInSeconds ?? 0,
      state: input.enabled === false ? MappingState.Disabled : MappingState.Enabled,
      stateTransitionReason: 'USER_INITIATED',
      lastModified: Date.now(),
    };
    this.byUuid.set(uuid, mapping);
    return mapping;
  }

  all(): EmulatedMapping[] {
    return [...this.byUuid.values()].map((m) => ({ ...m }));
  }

  find(uuid: string): EmulatedMapping | undefined {
    const mapping = this.byUuid.get(uuid);
    return mapping && { ...mapping };
  }

  controlOf(uuid: string): MappingControl {
    return {
      connect: (apply) => {
        const set = this.controls.get(uuid) ?? new Set();
        set.add(apply);
        this.controls.set(uuid, set);
        return () => set.delete(apply);
      },
      enabled: () => {
        const mapping = this.byUuid.get(uuid);
        return mapping !== undefined && ENABLED_STATES.has(mapping.state);
      },
    };
  }

  /** Resolves once no mapping is between states. */
  async settled(): Promise<void> {
    while (this.transitions.size > 0) await Promise.allSettled([...this.transitions]);
  }

  list(query: {
    functionName?: string;
    eventSourceArn?: string;
    marker?: string;
    maxItems?: number;
  }) {
    const maxItems = query.maxItems ?? 100;
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 10_000)
      throw new LambdaApiError(
        400,
        'InvalidParameterValueException',
        `MaxItems must be an integer between 1 and 10000; given ${String(query.maxItems)}`,
      );
    const start = query.marker === undefined ? 0 : Number(query.marker);
    if (!Number.isInteger(start) || start < 0)
      throw new LambdaApiError(400, 'InvalidParameterValueException', 'Invalid Marker');
    const matching = [...this.byUuid.values()].filter(
      (m) =>
        (query.eventSourceArn === undefined || m.eventSourceArn === query.eventSourceArn) &&
        (query.functionName === undefined ||
          functionNameMatches(query.functionName, m.functionArn)),
    );
    const page = matching.slice(start, start + maxItems);
    return {
      EventSourceMappings: page.map(render),
      ...(start + maxItems < matching.length && { NextMarker: String(start + maxItems) }),
    };
  }

  get(uuid: string) {
    return render(this.mustFind(uuid));
  }

  update(uuid: string, body: Record<string, unknown>) {
    const mapping = this.mustFind(uuid);
    if (body.Enabled !== undefined && typeof body.Enabled !== 'boolean')
      throw new LambdaApiError(
        400,
        'InvalidParameterValueException',
        `Enabled must be a boolean; given ${JSON.stringify(body.Enabled)}`,
      );
    if (body.BatchSize !== undefined) {
      if (typeof body.BatchSize !== 'number' || body.BatchSize < 1 || body.BatchSize > 10_000)
        throw new LambdaApiError(
          400,
          'InvalidParameterValueException',
          `BatchSize must be between 1 and 10000; given ${JSON.stringify(body.BatchSize)}`,
        );
    }
    // Lambda refuses to change a mapping that is between states.
    if (TRANSITIONAL.has(mapping.state))
      throw new LambdaApiError(
        400,
        'ResourceInUseException',
        `Cannot update the event source mapping ${uuid}: it is ${mapping.state}. Try again once it settles.`,
      );
    if (typeof body.BatchSize === 'number') mapping.batchSize = body.BatchSize;
    mapping.lastModified = Date.now();
    mapping.stateTransitionReason = 'USER_INITIATED';
    if (typeof body.Enabled === 'boolean' && body.Enabled !== ENABLED_STATES.has(mapping.state)) {
      mapping.state = body.Enabled ? MappingState.Enabling : MappingState.Disabling;
      // Answered in the transitional state (202), as Lambda does; it settles afterwards.
      const answer = render(mapping);
      this.transition(mapping, body.Enabled);
      return answer;
    }
    return render(mapping);
  }

  private transition(mapping: EmulatedMapping, enabled: boolean): void {
    const run = (async () => {
      const transitionMs = this.options.transitionMs();
      if (transitionMs > 0) await this.options.sleep(transitionMs);
      for (const apply of this.controls.get(mapping.uuid) ?? []) {
        try {
          await apply(enabled);
        } catch (error) {
          this.options.onControlError(error, mapping.uuid);
        }
      }
      mapping.state = enabled ? MappingState.Enabled : MappingState.Disabled;
      mapping.lastModified = Date.now();
    })();
    this.transitions.add(run);
    void run.finally(() => this.transitions.delete(run));
  }

  private mustFind(uuid: string): EmulatedMapping {
    const mapping = this.byUuid.get(uuid);
    if (!mapping)
      throw new LambdaApiError(
        404,
        'ResourceNotFoundException',
        `The resource you requested does not exist. (Service: Lambda, event source mapping ${uuid})`,
      );
    return mapping;
  }
}

/** The API's `EventSourceMappingConfiguration` (timestamps in epoch seconds, as REST-JSON sends them). */
const render = (m: EmulatedMapping) => {
  const [, partition, region, account] = FUNCTION_ARN.exec(m.functionArn) ?? [];
  return {
    UUID: m.uuid,
    BatchSize: m.batchSize,
    MaximumBatchingWindowInSeconds: m.maximumBatchingWindowInSeconds,
    EventSourceArn: m.eventSourceArn,
    FunctionArn: m.functionArn,
    LastModified: m.lastModified / 1000,
    State: m.state,
    StateTransitionReason: m.stateTransitionReason,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    EventSourceMappingArn: `arn:${partition}:lambda:${region}:${account}:event-source-mapping:${m.uuid}`,
  };
};
