/**
 * @module
 * `@rekey/kek-providers/aws-kms`: KEKs in AWS KMS, DEKs wrapped remotely with `Encrypt`,
 * `Decrypt` and `ReEncrypt`. Needs `@aws-sdk/client-kms` (an optional peer dependency, loaded
 * only by this subpath). Runs on Node and Deno.
 */
export { AwsKmsKekProvider, type AwsKmsKekProviderOptions } from './aws-kms-kek-provider.ts';
export { DEFAULT_ALIAS_PREFIX } from './kek-aliases.ts';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';
