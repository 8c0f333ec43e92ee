export {
  type CloudFormationEmulator,
  type CloudFormationEmulatorOptions,
  startCloudFormationEmulator,
} from './cloudformation-emulator.js';
export type { StoredStack } from './describe-stacks.js';
export {
  CLOUDFORMATION_XML_NAMESPACE,
  CloudFormationApiError,
  type CloudFormationFaults,
  type EmulatedStack,
} from './types.js';
