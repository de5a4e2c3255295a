/**
 * The local keyring provider: KEK versions kept in a private JSON file (or, read-only, in an
 * environment variable), DEKs wrapped in process with AES-256-GCM.
 */
import { env as processEnv } from 'node:process';

import {
  ConfigError,
  fromBase64Url,
  fromUtf8,
  type KekName,
  randomBytes,
} from '@rekey/crypto-core';

import { InProcessKekProvider } from '../_in-process-provider.ts';
import { parseKeyring, serializeKeyring } from '../_keyring-codec.ts';
import type { KeyringEntry, KeyringModel } from '../_keyring-model.ts';
import {
  nodeFileSystem,
  type PrivateFileSystem,
  readPrivateFile,
  writePrivateFile,
} from '../_private-file.ts';

/** Options of {@link LocalKekProvider.open}. */
export interface LocalKekProviderOptions {
  /** Path of the keyring file. */
  readonly path: string;
  /** Creates an empty keyring (mode 0600) when the file does not exist. Default `true`. */
  readonly create?: boolean;
  /** Clock for `createdAt` of new versions; defaults to the system clock. */
  readonly now?: () => Date;
  /** File system to use; defaults to `node:fs/promises`. Tests inject faults through it. */
  readonly fileSystem?: PrivateFileSystem;
  /**
   * How often the keyring is re-read so that this process follows rotations made by another
   * (the rekey worker), in milliseconds. Default 30,000; 0 re-reads on every call.
   */
  readonly refreshMs?: number;
}

type Storage =
  | { readonly kind: 'file'; readonly path: string; readonly fs: PrivateFileSystem }
  | { readonly kind: 'read-only'; readonly source: string };

/** The environment variable {@link LocalKekProvider.fromEnv} reads by default. */
export const DEFAULT_KEYRING_VARIABLE = 'REKEY_KEYRING';

/**
 * A `KekProvider` whose KEKs live in a local keyring file, refs `local:<kekName>/v<n>`.
 *
 * The file is JSON (schema version 1, see the package README) with mode 0600; a file that group
 * or others may access is refused. Every change replaces the file atomically (temporary file,
 * fsync, rename, fsync of the directory), so a crash during `rotate` leaves the old keyring or
 * the new one. A wrapped DEK is `iv (12) || ciphertext (32) || tag (16)` of AES-256-GCM whose
 * additional data binds the DEK id, scope, KEK name and KEK ref.
 *
 * NOTE: changes from several processes are serialised within a process only: two processes
 * rotating the same keyring at the same instant may lose one of the two new versions (the file
 * stays valid). Rotate from one place, for example the rekey worker.
 *
 * @example
 * ```ts
 * const provider = await LocalKekProvider.open({ path: '/etc/rekey/keyring.json' });
 * await provider.rotate('pii'); // v1, primary
 * const wrapped = await provider.wrap(dek, { dekId, scope: 'tenant-1', kekName: 'pii' });
 * ```
 */
export class LocalKekProvider extends InProcessKekProvider {
  readonly id: string = 'local';
  protected readonly wrapLabel: string = 'rekey/local-wrap/v1';
  readonly #storage: Storage;
  readonly #now: () => Date;

  private constructor(model: KeyringModel, storage: Storage, now: () => Date, refreshMs?: number) {
    super(model, refreshMs);
    this.#storage = storage;
    this.#now = now;
  }

  /**
   * Opens (or creates, mode 0600) a keyring file.
   *
   * @throws {ConfigError} when the file is group- or world-accessible, not a valid keyring, or
   * missing while `create` is false.
   * @throws {KekUnavailableError} when the file cannot be read or written.
   */
  static async open(options: LocalKekProviderOptions): Promise<LocalKekProvider> {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new ConfigError('"path" expected the path of the keyring file');
    }
    const fs = options.fileSystem ?? nodeFileSystem;
    const storage: Storage = { kind: 'file', path: options.path, fs };
    const bytes = await readPrivateFile(fs, options.path);
    let text = bytes === undefined ? undefined : decodeFileText(bytes, options.path);
    if (text === undefined) {
      if (options.create === false) {
        throw new ConfigError(`keyring file ${options.path} does not exist`);
      }
      text = serializeKeyring(new Map(), 'key');
      await writePrivateFile(fs, options.path, text);
    }
    const model = parseKeyring(text, 'key', options.path);
    const now = options.now ?? (() => new Date());
    return new LocalKekProvider(model, storage, now, options.refreshMs);
  }

  /**
   * A read-only provider over keyring JSON text (or its base64url form). `rotate` and `disable`
   * throw `ConfigError`.
   *
   * @param source - names the text in error messages, for example an environment variable.
   * @throws {ConfigError} when the text is not a valid keyring.
   */
  static fromText(text: string, source = 'text'): LocalKekProvider {
    const model = parseKeyring(decodeKeyringText(text, source), 'key', source);
    return new LocalKekProvider(model, { kind: 'read-only', source }, () => new Date());
  }

  /**
   * A read-only provider over the keyring in an environment variable, for containers that get
   * their secrets that way. The value is keyring JSON or its base64url encoding.
   *
   * @throws {ConfigError} when the variable is unset or not a valid keyring.
   */
  static fromEnv(
    variable: string = DEFAULT_KEYRING_VARIABLE,
    env: Readonly<Record<string, string | undefined>> = processEnv,
  ): LocalKekProvider {
    const text = env[variable];
    if (text === undefined || text === '') {
      throw new ConfigError(`environment variable ${variable} is not set`);
    }
    return LocalKekProvider.fromText(text, `environment variable ${variable}`);
  }

  protected async material(_kekName: KekName, entry: KeyringEntry): Promise<Uint8Array> {
    if (entry.key === undefined) throw new ConfigError('keyring version has no key');
    return entry.key;
  }

  protected nextEntry(_kekName: KekName, versions: readonly KeyringEntry[]): KeyringEntry {
    const last = versions.at(-1);
    const number = last === undefined ? 1 : Number(last.tag.slice(1)) + 1;
    return { tag: `v${number}`, createdAt: this.#now(), state: 'primary', key: randomBytes(32) };
  }

  protected async save(model: KeyringModel): Promise<void> {
    const storage = this.#storage;
    if (storage.kind === 'read-only') {
      throw new ConfigError(`keyring from ${storage.source} is read-only`);
    }
    await writePrivateFile(storage.fs, storage.path, serializeKeyring(model, 'key'));
  }

  protected async reload(): Promise<KeyringModel | undefined> {
    const storage = this.#storage;
    if (storage.kind === 'read-only') return undefined;
    const bytes = await readPrivateFile(storage.fs, storage.path);
    if (bytes === undefined) throw new ConfigError(`keyring file ${storage.path} disappeared`);
    return parseKeyring(decodeFileText(bytes, storage.path), 'key', storage.path);
  }
}

function decodeFileText(bytes: Uint8Array, path: string): string {
  try {
    return fromUtf8(bytes);
  } catch {
    throw new ConfigError(`keyring file ${path}: expected UTF-8 JSON`);
  }
}

/** Keyring text as given, or decoded from base64url when it is not JSON. */
function decodeKeyringText(text: string, source: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return trimmed;
  const bytes = fromBase64Url(trimmed.replace(/=+$/, ''));
  if (bytes === undefined) throw new ConfigError(`keyring ${source}: expected JSON or base64url`);
  try {
    return fromUtf8(bytes);
  } catch {
    throw new ConfigError(`keyring ${source}: expected JSON or base64url`);
  }
}
