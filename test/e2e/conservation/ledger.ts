/**
 * What the run sent, kept as small as the checks allow: per decision its target, whether it is a
 * dry run and its messages; per message what it carried. No bodies: a 50,000-request soak keeps
 * a few megabytes here.
 */
import type { Target } from '../fixtures.js';
import type { WorkloadMessage } from './workload.js';

export interface SentDecision {
  target: Target;
  dryRun: boolean;
  /** Every message sent with this eventId (resends included). */
  messageIds: string[];
}

export class Ledger {
  readonly decisions = new Map<string, SentDecision>();
  /** messageId → the eventId it carried, or `null` for a malformed body. */
  readonly messages = new Map<string, string | null>();
  malformed = 0;
  resends = 0;

  record(message: WorkloadMessage, messageId: string): void {
    if (message.kind === 'malformed') {
      this.malformed += 1;
      this.messages.set(messageId, null);
      return;
    }
    this.messages.set(messageId, message.eventId);
    const known = this.decisions.get(message.eventId);
    if (known) {
      this.resends += 1;
      known.messageIds.push(messageId);
    } else
      this.decisions.set(message.eventId, {
        target: message.target,
        dryRun: message.dryRun,
        messageIds: [messageId],
      });
  }

  get sent(): number {
    return this.messages.size;
  }
}
