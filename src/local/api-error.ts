/**
 * The error every emulator answers a call with: an AWS error code, its message and HTTP status.
 * Each emulator subclasses it under its own name (`RedshiftApiError`, `StsApiError`, …) so that a
 * stack trace says which API refused; the wire shape (awsQuery XML or awsJson) is the emulator's.
 */
export class EmulatedApiError extends Error {
  override readonly name: string = 'EmulatedApiError';

  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }

  /** awsQuery's `<Type>`: `Sender` for 4xx and `Receiver` for 5xx, as AWS sends it. */
  get type(): 'Sender' | 'Receiver' {
    return this.httpStatus >= 500 ? 'Receiver' : 'Sender';
  }
}
