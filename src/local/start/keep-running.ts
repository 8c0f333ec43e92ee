import type { LocalStack } from '../stack.js';

/** Single-quotes a value for a POSIX shell. */
const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

/** A request for a target still associated after the run, so the example does something. */
const exampleBody = (stack: LocalStack): string => {
  const share = stack.redshift
    .datashares()
    .find((s) => s.associations.some((a) => a.status === 'ACTIVE'));
  const association = share?.associations.find((a) => a.status === 'ACTIVE');
  const target =
    association && /^arn:/.test(association.consumerIdentifier) && !association.consumerRegion
      ? { consumerArn: association.consumerIdentifier }
      : association?.consumerRegion
        ? { consumerRegion: association.consumerRegion }
        : { disassociateEntireAccount: true };
  return JSON.stringify({
    eventId: `cli-${Date.now()}`,
    dataShareArn: share?.dataShareArn ?? 'arn:aws:redshift:us-east-1:444455556666:datashare:x/y',
    ...target,
    policyId: 'manual-test',
    issuedAt: new Date().toISOString(),
    dryRun: true,
  });
};

/**
 * What `--keep-running` prints: the endpoints, the variables that point the AWS CLI, the SDK and
 * the operator CLI at the stack, and commands to try.
 */
export const renderKeepRunning = (stack: LocalStack): string => {
  const { env } = stack;
  const exports = Object.entries({
    ...env,
    // The AWS CLI reads AWS_DEFAULT_REGION; the SDKs read AWS_REGION.
    AWS_DEFAULT_REGION: stack.region,
    SOURCE_QUEUE_URL: stack.queues.source.url,
  }).map(([name, value]) => `  export ${name}=${shellQuote(value)}`);
  const redshift = stack.endpoints.redshift;
  const events = stack.endpoints.eventBridge;
  return [
    '',
    'The local stack keeps running, with the worker polling the source queue. Ctrl-C stops it.',
    '',
    'Endpoints',
    `  SQS (fauxqs)          ${stack.endpoints.sqs}  (fault proxy; direct ${stack.endpoints.sqsDirect})`,
    `    source queue        ${stack.queues.source.url}`,
    `    dead-letter queue   ${stack.queues.deadLetter.url}`,
    `  DynamoDB (dynalite)   ${stack.endpoints.dynamoDb ?? '(not started)'}  table ${stack.idempotencyTable?.name ?? '-'}  (fault proxy)`,
    `  Redshift emulator     ${redshift}`,
    `  EventBridge emulator  ${events}  bus ${stack.auditEventBus.name}`,
    `  Lambda emulator       ${stack.endpoints.lambda}  mapping ${stack.workerMapping.uuid}`,
    `  CloudWatch Logs       ${stack.endpoints.logs}  audit log group ${stack.outputs.AuditLogGroupName}`,
    `  CloudWatch            ${stack.endpoints.cloudWatch}  alarms of infra/alarms.yml on the queues`,
    `  CloudFormation        ${stack.endpoints.cloudFormation}  stack datashare-revoker-local (its outputs)`,
    '',
    'In another shell (the SDKs and AWS CLI v2 honour AWS_ENDPOINT_URL_<SERVICE>; AWS CLI v1',
    'sends SQS calls in us-east-1 to queue.amazonaws.com regardless, hence --endpoint-url):',
    ...exports,
    '',
    '  aws sqs send-message --endpoint-url "$AWS_ENDPOINT_URL_SQS" --queue-url "$SOURCE_QUEUE_URL" \\',
    `    --message-body ${shellQuote(exampleBody(stack))}`,
    '  aws sqs receive-message --endpoint-url "$AWS_ENDPOINT_URL_SQS" --queue-url "$DEAD_LETTER_QUEUE_URL" \\',
    '    --message-attribute-names All --max-number-of-messages 10 --visibility-timeout 0',
    '  aws redshift describe-data-shares-for-consumer --status ACTIVE',
    `  npx revoker pause --reason test --function-name ${stack.workerMapping.functionName} \\`,
    '    --queue-arn "$SOURCE_QUEUE_ARN" --event-bus "$AUDIT_EVENT_BUS_NAME"   # then: npx revoker resume ...',
    '',
    'The operator CLI finds this stack as stage local (no export needed: it reads the endpoints',
    'this process publishes while it runs):',
    '  npx revoker status --stage local',
    '  npx revoker dlq list --stage local',
    '  npx revoker trace <eventId> --stage local',
    '  npx revoker report --stage local --since 1h --format html --out report.html',
    '',
    'Emulator and fault proxy admin routes:',
    `  curl -s ${redshift}/__emulator/calls            # every Redshift call and the stats`,
    `  curl -s ${redshift}/__emulator/state            # datashares, associations, faults`,
    `  curl -s -X POST ${redshift}/__emulator/faults -d '{"throttleRps":1}'`,
    `  curl -s -X POST ${redshift}/__emulator/faults -d '{"failNext":[{"kind":"accessDenied"}]}'`,
    `  curl -s ${events}/__emulator/events             # audit events accepted`,
    `  curl -s -X POST ${events}/__emulator/faults -d '{"entryFailureRate":0.2}'`,
    `  curl -s -X POST ${stack.endpoints.sqs}/__proxy/faults -d '{"lostAnswerRate":0.1}'`,
    `  curl -s ${stack.endpoints.sqs}/__proxy/stats     # SQS calls and injected faults`,
    '',
    'New audit events are shown below as they arrive.',
    '',
  ].join('\n');
};

/**
 * Reports each audit event accepted from now on, one line each, until the returned function is
 * called: what an operator's own messages did.
 */
export const watchAuditEvents = (
  stack: LocalStack,
  write: (text: string) => void,
  intervalMs = 250,
): (() => void) => {
  let seen = stack.eventBridge.events.length;
  const timer = setInterval(() => {
    const events = stack.eventBridge.events;
    for (const event of events.slice(seen)) {
      const d = event.detail as {
        eventId?: string | null;
        outcome?: string;
        attempts?: number;
        satisfiedBy?: string;
        error?: { code: string; message: string };
      };
      const note = d.satisfiedBy
        ? `satisfied by ${d.satisfiedBy}`
        : d.error
          ? `${d.error.code}: ${d.error.message}`
          : '';
      write(
        `audit  ${d.eventId ?? '(unreadable)'}  ${d.outcome ?? '?'}  attempts ${d.attempts ?? 0}  ${note}\n`,
      );
    }
    seen = events.length;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
};

/** Resolves on the first SIGINT or SIGTERM. */
export const untilSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
