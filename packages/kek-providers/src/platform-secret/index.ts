/**
 * @module
 * `@rekey/kek-providers/platform-secret`: KEK versions derived with HKDF-SHA256 from the one
 * secret a platform hands the application. Runs on Node and Deno.
 */
export { deriveKek, PLATFORM_SECRET_SALT } from './derive-kek.ts';
export {
  PlatformSecretKekProvider,
  type PlatformSecretKekProviderOptions,
  type PlatformSecretVersions,
  type StaticKekVersion,
} from './platform-secret-kek-provider.ts';
export { MIN_SECRET_LENGTH, type PlatformSecretSource } from './secret-source.ts';
