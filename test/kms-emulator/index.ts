/**
 * @module
 * The KMS emulator of the integration tests. Import it with a relative path from tests and
 * benchmarks; it is not part of any published package.
 */
export {
  KMS_OPERATIONS,
  type KmsEmulator,
  type KmsEmulatorOptions,
  type KmsInjectedFault,
  type KmsOperation,
  type KmsRequestCounts,
  type RateLimit,
  startKmsEmulator,
} from './kms-emulator.ts';
