import type { Command } from 'commander';
import { SwitchDetailType, switchDetail } from '../../core/switch-events.js';
import type { CommandContext } from '../context.js';
import { ExitCode } from '../errors.js';
import { printJson } from '../output.js';
import {
  callerOf,
  checkSwitchFlags,
  createSwitchDependencies,
  type SwitchDependencies,
  type SwitchFlags,
  switchMapping,
  switchOptions,
} from '../switch.js';
import { type CommandRunner, commonOptions, parseReason } from './common.js';

export interface PauseFlags extends SwitchFlags {
  reason: string;
}

/**
 * `revoker pause`: disables the worker's event source mapping (messages wait in the queue,
 * untouched; batches in flight finish), then publishes `Datashare Revoker Paused` with the
 * caller's identity and reason. Pausing a paused worker changes nothing and says so.
 */
export const pauseWorker = async (
  context: CommandContext,
  flags: PauseFlags,
  deps: SwitchDependencies,
): Promise<number> => {
  checkSwitchFlags(flags);
  const caller = callerOf(await context.identity());
  const outcome = await switchMapping(deps, false, flags, context);
  await deps.publish(
    SwitchDetailType.Paused,
    switchDetail({
      caller,
      reason: flags.reason,
      at: new Date(context.now()),
      functionName: flags.functionName,
      queueArn: flags.queueArn,
      mappings: outcome.mappings,
    }),
    [flags.queueArn],
  );
  const changed = outcome.mappings.some((m) => m.changed);
  if (context.output.json)
    printJson(context.output, { paused: true, changed, caller, mappings: outcome.mappings });
  else {
    for (const m of outcome.mappings)
      context.output.result(`event source mapping ${m.uuid}: ${m.state}`);
    context.output.result(
      changed
        ? `paused by ${caller.arn}: the queue keeps every message until \`revoker resume\``
        : 'already paused; the Paused event records this call',
    );
  }
  return ExitCode.Ok;
};

export const registerPause = (program: Command, run: CommandRunner): void => {
  switchOptions(
    commonOptions(
      program
        .command('pause')
        .summary("stop the worker: disable its event source mapping (the queue keeps what's in it)")
        .usage(
          '--reason TEXT (--stage NAME | --function-name NAME --queue-arn ARN --event-bus NAME)',
        ),
    ),
  )
    .requiredOption('--reason <text>', 'why (recorded in the Paused event)', (value: string) =>
      parseReason(value),
    )
    .addHelpText(
      'after',
      `
Disables the mapping; batches in flight finish. Publishes "Datashare Revoker Paused" on the audit
bus with your identity (STS GetCallerIdentity) and the reason. Undo with \`revoker resume\`.

Examples:
  $ revoker pause --stage prod --reason "policy engine incident INC-123"
  $ revoker pause --reason "policy engine incident INC-123" --function-name revoker-prod \\
      --queue-arn $QUEUE_ARN --event-bus revoker-audit`,
    )
    .action(
      run(async (context, flags: PauseFlags) => {
        const deps = createSwitchDependencies(flags);
        try {
          return await pauseWorker(context, flags, deps);
        } finally {
          deps.destroy();
        }
      }),
    );
};
