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

export interface ResumeFlags extends SwitchFlags {
  reason?: string;
}

/**
 * `revoker resume`: closes an open breaker (with `--table-name`: a new window starts), enables
 * the worker's event source mapping, and publishes `Datashare Revoker Resumed` with the caller's
 * identity, the reason and the breaker it closed. The breaker is closed first: enabled with the
 * breaker still open, the worker would hold everything and disable itself again.
 */
export const resumeWorker = async (
  context: CommandContext,
  flags: ResumeFlags,
  deps: SwitchDependencies,
): Promise<number> => {
  checkSwitchFlags(flags);
  const caller = callerOf(await context.identity());
  const signal = AbortSignal.timeout(15_000);
  const closed = deps.breaker ? ((await deps.breaker.close(signal)) ?? null) : undefined;
  const outcome = await switchMapping(deps, true, flags, context);
  await deps.publish(
    SwitchDetailType.Resumed,
    switchDetail({
      caller,
      reason: flags.reason,
      at: new Date(context.now()),
      functionName: flags.functionName,
      queueArn: flags.queueArn,
      mappings: outcome.mappings,
      ...(closed !== undefined && { breakerClosed: closed }),
    }),
    [flags.queueArn],
  );
  if (context.output.json)
    printJson(context.output, {
      resumed: true,
      caller,
      mappings: outcome.mappings,
      breakerClosed: closed ?? null,
      breakerChecked: closed !== undefined,
    });
  else {
    if (closed)
      context.output.result(
        `breaker closed: it had opened at ${new Date(closed.openedAt).toISOString()} after ${closed.revocationsInWindow} revocations in ${closed.windowSeconds} s (tripped by eventId ${closed.trippedBy.eventId})`,
      );
    else if (closed === null) context.output.result('breaker: closed (it was not open)');
    else
      context.output.note(
        'breaker not checked: pass --table-name to close an open breaker (an open one pauses the worker again at its next batch)',
      );
    for (const m of outcome.mappings)
      context.output.result(`event source mapping ${m.uuid}: ${m.state}`);
    context.output.result(`resumed by ${caller.arn}`);
  }
  return ExitCode.Ok;
};

export const registerResume = (program: Command, run: CommandRunner): void => {
  switchOptions(
    commonOptions(
      program
        .command('resume')
        .summary('start the worker again: close an open breaker, enable its event source mapping')
        .usage(
          '(--stage NAME | --function-name NAME --queue-arn ARN --event-bus NAME --table-name TABLE)',
        ),
    ),
  )
    .option('--reason <text>', 'why (recorded in the Resumed event)', (value: string) =>
      parseReason(value),
    )
    .addHelpText(
      'after',
      `
Closes the breaker kept in the idempotency table (--table-name; its window starts afresh),
enables the mapping, and publishes "Datashare Revoker Resumed" on the audit bus with your identity.

Examples:
  $ revoker resume --stage prod --reason "engine fixed, INC-123"
  $ revoker resume --reason "engine fixed, INC-123" --function-name revoker-prod \\
      --queue-arn $QUEUE_ARN --event-bus revoker-audit --table-name revoker-idempotency`,
    )
    .action(
      run(async (context, flags: ResumeFlags) => {
        const deps = createSwitchDependencies(flags);
        try {
          return await resumeWorker(context, flags, deps);
        } finally {
          deps.destroy();
        }
      }),
    );
};
