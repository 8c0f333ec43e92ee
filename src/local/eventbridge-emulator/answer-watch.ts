import type { Socket } from 'node:net';
import type { AcceptedEvent } from './types.js';

/**
 * How soon after its answer a connection may close for the answer to count as unread. An SDK call
 * aborted by its timeout destroys its socket; one that read its answer keeps the keep-alive
 * socket open for the next call (the server closes idle ones after 5 s).
 */
export const ABANDONED_ANSWER_MS = 250;

/** The latest PutEvents call on one connection. */
export interface CallOnConnection {
  /** Events this call accepted. */
  readonly events: AcceptedEvent[];
  /** Set once the answer is written. */
  answeredAt: number | undefined;
}

/**
 * Flags the events of a call whose client went away before it could read the answer
 * (`clientAborted`): the events are on the bus, the client saw a failure and will publish them
 * again — the same outcome as a lost answer, without an injected fault.
 */
export class AnswerWatch {
  private readonly latest = new WeakMap<Socket, CallOnConnection>();

  /** `stopped` aborts when the server stops: its own closing of connections does not count. */
  constructor(
    private readonly stopped: AbortSignal,
    private readonly now: () => number = Date.now,
  ) {}

  /** A call begins on `socket`; only the latest call of a connection is watched. */
  begin(socket: Socket): CallOnConnection {
    const call: CallOnConnection = { events: [], answeredAt: undefined };
    // One listener per connection, however many calls it carries.
    if (!this.latest.has(socket)) socket.once('close', () => this.closed(socket));
    this.latest.set(socket, call);
    return call;
  }

  private closed(socket: Socket): void {
    const call = this.latest.get(socket);
    this.latest.delete(socket);
    if (!call || this.stopped.aborted) return;
    if (call.answeredAt !== undefined && this.now() - call.answeredAt > ABANDONED_ANSWER_MS) return;
    for (const event of call.events) event.clientAborted = true;
  }
}
