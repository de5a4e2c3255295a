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

import {
  DEFAULT_LOCK_STALE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  type FileLockTiming,
  lockPathOf,
  readOrCreatePrivateFile,
  withFileLock,
} from '../_file-lock.ts';
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
  /**
   * How long a change waits for another process's change to the same keyring (the lock file
   * `<path>.lock`) before it fails with `KekUnavailableError`, in milliseconds. Default 10,000.
   */
  readonly lockTimeoutMs?: number;
  /**
   * Age in milliseconds after which a lock file is taken to be abandoned and is broken, even
   * when its owner seems alive. Default 120,000; keep it far above a change's duration.
   */
  readonly lockStaleMs?: number;
}

type Storage =
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly fs: PrivateFileSystem;
      readonly lock: FileLockTiming;
    }
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
 * Changes are serialised across processes by a lock file next to the keyring, `<path>.lock`:
 * created exclusively (mode 0600) and holding the owner's pid, host name and time as JSON, it is
 * held while the change re-reads the keyring, applies itself and saves, so that two processes
 * rotating at once both keep their new versions. A change waits up to `lockTimeoutMs` with a
 * jittered back-off, then fails with `KekUnavailableError` naming the lock file. A lock whose
 * owner process is gone (same host) or that is older than `lockStaleMs` is broken by one waiter.
 * Creating a missing keyring takes the lock too. The read-only keyring takes no lock.
 *
 * NOTE: the lock is advisory and only as sound as the file system's exclusive create: it holds
 * on local disks and NFS version 3 or later, not on older NFS.
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
   * @throws {KekUnavailableError} when the file cannot be read or written, or when it must be
   * created and another process holds its lock past `lockTimeoutMs`.
   */
  static async open(options: LocalKekProviderOptions): Promise<LocalKekProvider> {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new ConfigError('"path" expected the path of the keyring file');
    }
    const path = options.path;
    const fs = options.fileSystem ?? nodeFileSystem;
    const lock = {
      timeoutMs: checkMs(options.lockTimeoutMs, 'lockTimeoutMs') ?? DEFAULT_LOCK_TIMEOUT_MS,
      staleAfterMs: checkMs(options.lockStaleMs, 'lockStaleMs') ?? DEFAULT_LOCK_STALE_MS,
    };
    const storage: Storage = { kind: 'file', path, fs, lock };
    const bytes =
      options.create === false
        ? await readPrivateFile(fs, path)
        : await readOrCreatePrivateFile(fs, path, serializeKeyring(new Map(), 'key'), lock);
    if (bytes === undefined) throw new ConfigError(`keyring file ${path} does not exist`);
    const model = parseKeyring(decodeFileText(bytes, path), 'key', path);
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

  protected override exclusive<T>(change: () => Promise<T>): Promise<T> {
    const storage = this.#storage;
    if (storage.kind === 'read-only') return change();
    return withFileLock(storage.fs, lockPathOf(storage.path), storage.lock, change);
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

function checkMs(value: number | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`"${field}" expected a non-negative number of milliseconds`);
  }
  return value;
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
