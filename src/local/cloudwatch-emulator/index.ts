export {
  type CloudWatchEmulator,
  type CloudWatchEmulatorOptions,
  type EmulatedAlarm,
  type MetricSource,
  startCloudWatchEmulator,
} from './cloudwatch-emulator.js';
