/** The conservation report as people read it: a verdict, the figures, the problems. */
import type { ConservationReport } from './run.js';

const entries = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ') || 'none';

/** A few lines: the verdict first, then what was sent, what happened, what was injected. */
export const formatVerdict = (report: ConservationReport, maxProblems = 20): string => {
  const { messages: m, knownWindow: k, faults: f } = report;
  const lines = [
    `${report.verdict}: conservation run, seed ${report.seed}, ${(report.durationMs / 1000).toFixed(1)} s, ${report.problems.length} problems`,
    `  sent ${m.sent} messages: ${m.decisions} decisions, ${m.resends} resends, ${m.malformed} malformed; redelivered ${m.redelivered}, max receives ${m.maxReceives}, at the last receive (${report.settings.maxReceiveCount}) ${m.reachedLastReceive}; last audit event at ${(m.lastAuditAtMs / 1000).toFixed(1)} s`,
    `  outcomes: ${entries(report.outcomes)}`,
    `  DLQ: ${report.deadLetters.total} copies; error codes: ${entries(report.deadLetters.byErrorCode)}; standing unaudited: ${report.deadLetters.standingUnaudited}; moved by SQS after a Lambda timeout at the last receive: ${report.deadLetters.movedBySqsAfterTimeout}`,
    `  known window: ${k.count} (${(k.rate * 100).toFixed(3)}% of ${m.decisions + m.malformed} decisions and malformed messages): ${entries(k.byKind)}; eventIds/messages audited twice: ${report.auditedTwice}`,
    `  Redshift: ${report.redshift.disassociateCalls} disassociate calls, ${report.redshift.stateChanges} state changes; injected: ${entries(f.redshift)}`,
    `  EventBridge: ${entries(f.eventBridge)}`,
    `  DynamoDB: ${entries(f.dynamoDb)}; lost answers by operation: ${entries(f.dynamoDbLostAnswersByOperation)}; store episodes: ${f.storeEpisodes.map((e) => `${e.kind} ${(e.durationMs / 1000).toFixed(1)} s at ${(e.startMs / 1000).toFixed(1)} s`).join(', ') || 'none'}`,
    `  SQS: ${entries(f.sqs)}; lost answers by operation: ${entries(f.sqsLostAnswersByOperation)}`,
    `  invocations: ${entries(report.invocations)}`,
  ];
  if (report.problems.length > 0) {
    lines.push('  problems:');
    for (const problem of report.problems.slice(0, maxProblems)) lines.push(`  - ${problem}`);
    if (report.problems.length > maxProblems)
      lines.push(`  … and ${report.problems.length - maxProblems} more`);
  }
  return lines.join('\n');
};
