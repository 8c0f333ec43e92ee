/**
 * `EventSourceSwitch` over the Lambda API. `@aws-sdk/client-lambda` is imported on first use, not
 * when this module loads: the worker needs it only when the breaker opens, so it stays off the
 * cold start (the CLI's pause/resume load it the same way).
 */
import type { LambdaClient, LambdaClientConfig } from '@aws-sdk/client-lambda';
import { AwsCallError, FailureKind, RevokerError } from '../core/errors.js';
import type { EventSourceSwitch, MappingTarget, SwitchOutcome } from '../worker/ports.js';
import { failureDetailsOf, messageOf } from './aws-error.js';
import { onFirstUse } from './first-use.js';

/** The function has no event source mapping on the queue: nothing to switch. */
export class EventSourceMappingNotFoundError extends RevokerError {
  constructor(target: MappingTarget) {
    super(
      `No event source mapping of function ${target.functionName} on ${target.queueArn} (ListEventSourceMappings found none)`,
      { functionName: target.functionName, queueArn: target.queueArn },
    );
    this.name = 'EventSourceMappingNotFoundError';
  }
}

/** States at or on the way to enabled / disabled (`GetEventSourceMapping` `State`). */
const TOWARDS: Record<'true' | 'false', ReadonlySet<string>> = {
  true: new Set(['Enabled', 'Enabling', 'Creating']),
  false: new Set(['Disabled', 'Disabling']),
};

type LambdaSdk = typeof import('./lambda-sdk.js');

/**
 * Finds the function's mapping on its queue and sets `Enabled`.
 *
 * @example
 * const mappings = new LambdaEventSourceSwitch({ region: 'us-east-1', maxAttempts: 1 });
 * await mappings.setEnabled(false, { functionName, queueArn }, AbortSignal.timeout(5000));
 */
export class LambdaEventSourceSwitch implements EventSourceSwitch {
  readonly #load: () => Promise<{ sdk: LambdaSdk; client: LambdaClient }>;

  /** `config` is the client's; the client is built (and the SDK loaded) on first use. */
  constructor(config: LambdaClientConfig) {
    this.#load = onFirstUse(() =>
      import('./lambda-sdk.js').then((sdk) => ({ sdk, client: new sdk.LambdaClient(config) })),
    );
  }

  async setEnabled(
    enabled: boolean,
    target: MappingTarget,
    signal: AbortSignal,
  ): Promise<SwitchOutcome> {
    const { sdk, client } = await this.#load();
    const call = async <T>(operation: string, send: () => Promise<T>): Promise<T> => {
      try {
        return await send();
      } catch (error) {
        throw new AwsCallError(
          `Lambda ${operation} failed: ${messageOf(error)}`,
          failureDetailsOf(error),
          { operation, functionName: target.functionName, queueArn: target.queueArn },
          { cause: error },
        );
      }
    };
    const found: { uuid: string; state: string }[] = [];
    let marker: string | undefined;
    do {
      const page = await call('ListEventSourceMappings', () =>
        client.send(
          new sdk.ListEventSourceMappingsCommand({
            FunctionName: target.functionName,
            EventSourceArn: target.queueArn,
            ...(marker !== undefined && { Marker: marker }),
          }),
          { abortSignal: signal },
        ),
      );
      for (const m of page.EventSourceMappings ?? [])
        if (m.UUID) found.push({ uuid: m.UUID, state: m.State ?? 'Unknown' });
      marker = page.NextMarker;
    } while (marker);
    if (found.length === 0) throw new EventSourceMappingNotFoundError(target);

    const towards = TOWARDS[enabled ? 'true' : 'false'];
    const mappings = await Promise.all(
      found.map(async ({ uuid, state }) => {
        if (towards.has(state)) return { uuid, state, changed: false };
        try {
          const updated = await client.send(
            new sdk.UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }),
            { abortSignal: signal },
          );
          return { uuid, state: updated.State ?? 'Unknown', changed: true };
        } catch (error) {
          // Between states (someone else is switching it): fine if it is heading our way.
          if (!(error instanceof sdk.ResourceInUseException))
            throw new AwsCallError(
              `Lambda UpdateEventSourceMapping of ${uuid} failed: ${messageOf(error)}`,
              failureDetailsOf(error),
              { operation: 'UpdateEventSourceMapping', uuid },
              { cause: error },
            );
          const now = await call('GetEventSourceMapping', () =>
            client.send(new sdk.GetEventSourceMappingCommand({ UUID: uuid }), {
              abortSignal: signal,
            }),
          );
          if (towards.has(now.State ?? '')) return { uuid, state: now.State ?? '', changed: false };
          throw new AwsCallError(
            `Lambda event source mapping ${uuid} is ${now.State} and cannot be ${enabled ? 'enabled' : 'disabled'} until it settles: ${messageOf(error)}`,
            { kind: FailureKind.Transient, code: 'ResourceInUseException' },
            { operation: 'UpdateEventSourceMapping', uuid },
            { cause: error },
          );
        }
      }),
    );
    return { mappings };
  }
}
