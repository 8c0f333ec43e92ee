import { realpathSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { readLocalStage } from '../local/stage-file.js';
import { awsClients } from './aws-clients.js';
import { createRunner, type RunnerEnvironment } from './commands/common.js';
import { registerDlqList } from './commands/dlq-list.js';
import { registerDlqPurge } from './commands/dlq-purge.js';
import { registerDlqRedrive } from './commands/dlq-redrive.js';
import { registerDlqReplay } from './commands/dlq-replay.js';
import { registerPause } from './commands/pause.js';
import { loadWorkerHandler, registerPoll } from './commands/poll.js';
import { registerReport } from './commands/report.js';
import { registerResume } from './commands/resume.js';
import { registerSend } from './commands/send.js';
import { registerStatus } from './commands/status.js';
import { registerTrace } from './commands/trace.js';
import { describeFailure, ExitCode } from './errors.js';
import { osUserIdentity, withFallback } from './identity.js';
import { processOutput } from './output.js';
import { terminalConfirm } from './prompt.js';
import { createSqsClient } from './sqs.js';
import { callerIdentity } from './sts-identity.js';

export interface ProgramOptions {
  environment: RunnerEnvironment;
  stdin: NodeJS.ReadableStream;
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
}

/**
 * The `revoker` command tree. Each subcommand lives in `commands/` as a testable function plus a
 * thin `register*` that declares its flags, usage line and examples.
 */
export const buildProgram = (options: ProgramOptions): Command => {
  const run = createRunner(options.environment);
  const program = new Command('revoker')
    .description(
      'Operator tool for datashare-revoker: status at a glance, trace one decision, compliance reports; inspect and replay the dead-letter queue, send and process revocation requests.',
    )
    .usage('<command> [options]')
    .configureOutput({ writeOut: options.writeOut, writeErr: options.writeErr })
    // Throw instead of exiting, so that every exit goes through one place with our exit codes.
    .exitOverride()
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Exit codes: 0 done; 1 ran, but something failed (see the summary); 2 nothing done (bad usage,
unknown queue, no credentials, access denied, no confirmation).
Runbook: docs/operator-runbook.md`,
    );
  const dlq = program
    .command('dlq')
    .summary('inspect, replay, redrive or purge the dead-letter queue')
    .usage('<list|replay|redrive|purge> [options]')
    .exitOverride()
    .configureOutput({ writeOut: options.writeOut, writeErr: options.writeErr });
  registerDlqList(dlq, run);
  registerDlqReplay(dlq, run);
  registerDlqRedrive(dlq, run);
  registerDlqPurge(dlq, run);
  registerSend(program, run, options.stdin);
  registerPoll(program, run, () => loadWorkerHandler(options.environment.env));
  registerPause(program, run);
  registerResume(program, run);
  registerStatus(program, run);
  registerTrace(program, run);
  registerReport(program, run);
  for (const command of [...dlq.commands, ...program.commands]) {
    command
      .exitOverride()
      .configureOutput({ writeOut: options.writeOut, writeErr: options.writeErr });
  }
  return program;
};

/**
 * Runs the CLI on `argv` (as `process.argv`: node, script, args...) and resolves to the exit code.
 * Never throws: every failure ends as one line on stderr.
 */
export const main = async (
  argv: readonly string[] = process.argv,
  overrides: Partial<RunnerEnvironment> = {},
): Promise<number> => {
  const controller = new AbortController();
  let exitCode: number = ExitCode.Ok;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`revoker: ${signal} again: exiting now\n`);
      process.exit(130);
    }
    process.stderr.write(`revoker: ${signal}: finishing what is in flight (again to force)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (overrides.env === undefined) useLocalStack(argv, process.env);
  const env = overrides.env ?? process.env;
  const program = buildProgram({
    environment: {
      env,
      output: processOutput,
      confirm: terminalConfirm(process.stdin, process.stderr),
      identity: withFallback(callerIdentity(env) ?? osUserIdentity),
      createSqs: (connection) => createSqsClient(connection, env),
      aws: awsClients(env),
      now: Date.now,
      sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : undefined),
      signal: controller.signal,
      setExitCode: (code) => {
        exitCode = code;
      },
      ...overrides,
    },
    stdin: process.stdin,
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
  });
  try {
    if (argv.length <= 2) {
      program.outputHelp();
      return ExitCode.Unusable;
    }
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its one line (or the help); usage errors exit 2, help 0.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Unusable;
    }
    const failure = describeFailure(error);
    if (env.REVOKER_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.stderr.write(`revoker: ${failure.line}\n`);
    return failure.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
};

/** `--stage NAME` / `--stage=NAME` on the command line, else REVOKER_STAGE. */
const stageOf = (argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined => {
  for (const [index, arg] of argv.entries()) {
    if (arg === '--stage') return argv[index + 1];
    if (arg.startsWith('--stage=')) return arg.slice('--stage='.length);
  }
  return env.REVOKER_STAGE;
};

/**
 * Stage `local` is the local stack of `npm start -- --keep-running`, whose emulators listen on
 * ephemeral ports: its published environment (endpoints, dummy credentials) fills in what the
 * shell did not set, so the SDK clients — and the worker `poll` builds — reach it. A shell that
 * exported the stack's variables itself keeps them.
 */
const useLocalStack = (argv: readonly string[], env: NodeJS.ProcessEnv): void => {
  if (stageOf(argv, env) !== 'local' || env.AWS_ENDPOINT_URL_CLOUDFORMATION) return;
  const local = readLocalStage();
  if (!local) {
    process.stderr.write(
      'revoker: no local stack is running (start one with: npm start -- --keep-running); trying AWS\n',
    );
    return;
  }
  for (const [name, value] of Object.entries(local)) env[name] ??= value;
};

const isEntryPoint = (): boolean => {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
};

if (isEntryPoint()) {
  process.exitCode = await main(process.argv);
}
