import { CONFIG_VARIABLES } from '../../config.js';
import type { SqsBatchHandler } from '../event-source-mapping.js';
import type { LogLevel } from './options.js';

const HANDLER_MODULE = new URL('../../handler.js', import.meta.url);

/** Shell variables that would change the run if they leaked into the worker. */
const CLEARED_VARIABLES = [...CONFIG_VARIABLES, 'AWS_SESSION_TOKEN', 'AWS_PROFILE'];

let loads = 0;

/**
 * Loads the real Lambda handler (`src/handler.ts`) against the local stack, as a cold start
 * would: the environment is set first, because the handler reads it once, at module scope.
 *
 * - The worker gets exactly `env` plus `LOG_LEVEL`: a `DRY_RUN=true` or an `IDEMPOTENCY_TABLE_NAME`
 *   left in the shell must not change the run. The variables stay set for the life of the
 *   process, because the SDK clients read credentials and endpoints at their first call.
 * - pino's destination takes `process.stdout.fd` when the handler builds its logger: pointing it
 *   at stderr for that moment keeps stdout for the summary (see `worker-output.ts`).
 * - Each load is a fresh module instance (a query string makes a new module URL), so a second run
 *   in the same process never talks to the first run's stack.
 */
export const loadWorkerHandler = async (
  env: Readonly<Record<string, string>>,
  logLevel: LogLevel,
): Promise<SqsBatchHandler> => {
  for (const name of CLEARED_VARIABLES) delete process.env[name];
  Object.assign(process.env, env, { LOG_LEVEL: logLevel });
  const stdout = process.stdout as { fd: number };
  const stdoutFd = stdout.fd;
  stdout.fd = process.stderr.fd;
  try {
    loads += 1;
    const module = (await import(`${HANDLER_MODULE.href}?load=${loads}`)) as {
      handler: SqsBatchHandler;
    };
    return module.handler;
  } finally {
    stdout.fd = stdoutFd;
  }
};
