export type { CallCounts, CallOutcome, CallStats, RecordedCall } from './call-log.js';
export { emptyCounts } from './call-log.js';
export { consumerKeyOfTarget, targetKeyOf } from './consumer-target.js';
export { CROSS_ACCOUNT_ANSWERS, type CrossAccountAnswer } from './errors.js';
export {
  FAULT_KINDS,
  type FaultKind,
  LOST_ANSWER_SHAPES,
  type LostAnswerShape,
  noFaults,
  type RedshiftFaults,
  type RedshiftFaultsPatch,
  type TargetedFault,
} from './faults.js';
export { VISIBILITIES, type Visibility } from './operations.js';
export {
  type CallFilter,
  DEFAULT_CONSUMER_ACCOUNT_ID,
  type RedshiftEmulator,
  type RedshiftEmulatorOptions,
  startRedshiftEmulator,
} from './redshift-emulator.js';
export {
  loadSeedFile,
  type ParsedSeedFile,
  parseSeedFile,
  type SeedFile,
  seedFileSchema,
} from './seed-file.js';
export {
  ASSOCIATION_STATUSES,
  type AssociationStatus,
  type ConsumerTarget,
  type DataShareAssociationState,
  type DataShareState,
  REDSHIFT_OPERATIONS,
  type RedshiftOperation,
} from './types.js';
