/**
 * Where the platform's one secret comes from: an environment variable, a file or bytes given
 * directly. The secret never appears in an error; its source (variable name, path) does.
 */
import { env as processEnv } from 'node:process';

import { ConfigError, utf8 } from '@rekey/crypto-core';

import { nodeFileSystem, type PrivateFileSystem, readPrivateFile } from '../_private-file.ts';

/**
 * The platform secret: the UTF-8 value of an environment variable, the raw bytes of a file, a
 * string the caller already resolved (its UTF-8 bytes), or bytes.
 */
export type PlatformSecretSource =
  | { readonly env: string }
  | { readonly file: string }
  | { readonly value: string }
  | { readonly bytes: Uint8Array };

/** Shortest secret accepted: 32 bytes, the strength of the KEKs derived from it. */
export const MIN_SECRET_LENGTH = 32;

/**
 * Loads the secret and checks its length. The returned bytes are a copy the caller owns.
 *
 * @throws {ConfigError} naming the source when it is missing, group- or world-readable (files)
 * or shorter than 32 bytes.
 */
export async function loadSecret(
  source: PlatformSecretSource,
  env: Readonly<Record<string, string | undefined>> = processEnv,
  fs: PrivateFileSystem = nodeFileSystem,
): Promise<Uint8Array> {
  if (typeof source !== 'object' || source === null) {
    throw new ConfigError('"secret" expected { env }, { file }, { value } or { bytes }');
  }
  let secret: Uint8Array | undefined;
  let name: string;
  if ('env' in source && typeof source.env === 'string') {
    name = `environment variable ${source.env}`;
    const value = env[source.env];
    secret = value === undefined || value === '' ? undefined : utf8(value);
  } else if ('file' in source && typeof source.file === 'string') {
    name = `secret file ${source.file}`;
    secret = await readPrivateFile(fs, source.file, 'secret file');
  } else if ('value' in source && typeof source.value === 'string') {
    name = 'secret value';
    secret = source.value === '' ? undefined : utf8(source.value);
  } else if ('bytes' in source && source.bytes instanceof Uint8Array) {
    name = 'secret bytes';
    secret = source.bytes.slice();
  } else {
    throw new ConfigError('"secret" expected { env }, { file }, { value } or { bytes }');
  }

  if (secret === undefined) throw new ConfigError(`platform secret: ${name} is not set`);
  if (secret.length < MIN_SECRET_LENGTH) {
    secret.fill(0);
    throw new ConfigError(
      `platform secret: ${name} expected at least ${MIN_SECRET_LENGTH} bytes, got ${secret.length}`,
    );
  }
  return secret;
}
