export {
  LAMBDA_FAULT_KINDS,
  type LambdaFaultKind,
  type LambdaFaults,
  type LambdaFaultsPatch,
  type LambdaTargetedFault,
} from './faults.js';
export {
  type LambdaEmulator,
  type LambdaEmulatorOptions,
  startLambdaEmulator,
} from './lambda-emulator.js';
export { functionNameMatches, type MappingControl, type MappingInput } from './mappings.js';
export {
  type EmulatedMapping,
  LAMBDA_OPERATIONS,
  type LambdaOperation,
  MappingState,
  type RecordedLambdaCall,
} from './types.js';
