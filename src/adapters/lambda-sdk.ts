/**
 * The few parts of `@aws-sdk/client-lambda` the event source switch uses, in one module that is
 * imported dynamically: esbuild keeps only these (a dynamic import of the package itself would
 * keep all of its exports) and evaluates them only when the switch is first used.
 */
export {
  GetEventSourceMappingCommand,
  LambdaClient,
  type LambdaClientConfig,
  ListEventSourceMappingsCommand,
  ResourceInUseException,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
