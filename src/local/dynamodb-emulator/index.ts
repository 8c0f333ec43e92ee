export { type DynamoDbEmulator, startDynamoDbEmulator } from './dynamodb-emulator.js';
export type { CancellationReason } from './transact-write-items.js';
