export {
  type AccountsSeed,
  accountsSeedSchema,
  loadAccountsSeed,
  type ParsedAccountsSeed,
  parseAccountsSeed,
} from './accounts-seed.js';
export type {
  RecordedStsCall,
  StsCallCounts,
  StsCallOutcome,
  StsCallStats,
} from './call-log.js';
export { accountOfIssuedKey, ISSUED_KEY, type IssuedSession } from './credential-store.js';
export {
  STS_FAULT_KINDS,
  type StsFaultKind,
  type StsFaults,
  type StsFaultsPatch,
  type StsTargetedFault,
} from './faults.js';
export { DEFAULT_DURATION_SECONDS } from './operations.js';
export type { RoleState } from './roles.js';
export {
  DEFAULT_HUB_ACCOUNT_ID,
  type StsCallFilter,
  type StsEmulator,
  type StsEmulatorOptions,
  startStsEmulator,
} from './sts-emulator.js';
export { STS_OPERATIONS, type StsOperation } from './types.js';
