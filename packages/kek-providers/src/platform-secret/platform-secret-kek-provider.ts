/**
 * The platform-secret provider: every KEK version is derived from the one secret a platform hands
 * the application (HKDF-SHA256 with the KEK name and a version label), so rotating is choosing a
 * new label and no key material is ever stored.
 */
import { env as processEnv } from 'node:process';

import { ConfigError, fromUtf8, type KekName } from '@rekey/crypto-core';

import { checkKekName } from '../_checks.ts';
import {
  DEFAULT_LOCK_STALE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  lockPathOf,
  readOrCreatePrivateFile,
  withFileLock,
} from '../_file-lock.ts';
import { InProcessKekProvider } from '../_in-process-provider.ts';
import { LABEL, parseKeyring, serializeKeyring } from '../_keyring-codec.ts';
import type { KeyringEntry, KeyringModel } from '../_keyring-model.ts';
import {
  nodeFileSystem,
  type PrivateFileSystem,
  readPrivateFile,
  writePrivateFile,
} from '../_private-file.ts';
import { deriveKek } from './derive-kek.ts';
import { loadSecret, type PlatformSecretSource } from './secret-source.ts';

/** One version of a KEK listed in configuration. */
export interface StaticKekVersion {
  /** The HKDF label: 1 to 64 characters of `A-Z a-z 0-9 . _ -`. */
  readonly label: string;
  /** When the version was made; shown by `describe`. Defaults to 1970-01-01 (unknown). */
  readonly createdAt?: string | Date;
  /** A disabled version no longer unwraps. The last version of a list cannot be disabled. */
  readonly disabled?: boolean;
}

/**
 * Where the labels and states of KEK versions live:
 * - `stateFile`: a small JSON file (schema version 1, mode 0600, atomic writes) that `rotate`
 *   and `disable` update; it holds labels only, no secret.
 * - `keks`: a fixed list per KEK name in configuration, read-only; the last label of each list
 *   is primary. Rotating means adding a label to the configuration and restarting.
 */
export type PlatformSecretVersions =
  | { readonly stateFile: string }
  | { readonly keks: Readonly<Record<KekName, readonly StaticKekVersion[]>> };

/** Options of {@link PlatformSecretKekProvider.open}. */
export interface PlatformSecretKekProviderOptions {
  readonly secret: PlatformSecretSource;
  readonly versions: PlatformSecretVersions;
  /** Clock for `createdAt` of new versions; defaults to the system clock. */
  readonly now?: () => Date;
  /** Environment to read `{ env }` secrets from; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** File system for the secret and state files; defaults to `node:fs/promises`. */
  readonly fileSystem?: PrivateFileSystem;
  /** How often a state file is re-read to follow rotations made elsewhere. Default 30,000 ms. */
  readonly refreshMs?: number;
}

/**
 * Changes to a state file are serialised across processes by `<stateFile>.lock`, as the local
 * keyring's are. Versions are derived from their labels, so a lost race could not lose a key,
 * but it could lose a `disable`.
 */
const STATE_LOCK = { timeoutMs: DEFAULT_LOCK_TIMEOUT_MS, staleAfterMs: DEFAULT_LOCK_STALE_MS };

type Storage =
  | { readonly kind: 'file'; readonly path: string; readonly fs: PrivateFileSystem }
  | { readonly kind: 'static' };

/**
 * A `KekProvider` whose KEKs are derived from one platform secret, refs
 * `platform-secret:<kekName>/<label>`. `rotate` adds the label `v<n+1>` (n versions so far).
 * Wrapping is the same AES-256-GCM as the local provider's, with its own additional-data label.
 *
 * Anyone holding the secret and a label can derive that KEK: the secret is the root of trust,
 * labels and states are not secret. Changing the secret makes every existing DEK unreadable;
 * moving to a new secret means a second provider instance and a rewrap.
 *
 * @example
 * ```ts
 * const provider = await PlatformSecretKekProvider.open({
 *   secret: { env: 'APP_SECRET' },
 *   versions: { stateFile: '/var/lib/rekey/kek-state.json' },
 * });
 * await provider.rotate('pii'); // platform-secret:pii/v1
 * ```
 */
export class PlatformSecretKekProvider extends InProcessKekProvider {
  readonly id: string = 'platform-secret';
  protected readonly wrapLabel: string = 'rekey/platform-secret-wrap/v1';
  protected override readonly materialIsCopy: boolean = true;
  readonly #secret: Uint8Array;
  readonly #storage: Storage;
  readonly #now: () => Date;

  private constructor(
    model: KeyringModel,
    secret: Uint8Array,
    storage: Storage,
    now: () => Date,
    refreshMs?: number,
  ) {
    super(model, refreshMs);
    this.#secret = secret;
    this.#storage = storage;
    this.#now = now;
  }

  /**
   * Loads the secret and the version list (creating an empty state file when missing).
   *
   * @throws {ConfigError} when the secret is missing or shorter than 32 bytes, a file is group-
   * or world-accessible, or the version list is invalid.
   * @throws {KekUnavailableError} when a file cannot be read or written.
   */
  static async open(options: PlatformSecretKekProviderOptions): Promise<PlatformSecretKekProvider> {
    const fs = options.fileSystem ?? nodeFileSystem;
    const now = options.now ?? (() => new Date());
    const versions = options.versions;
    let model: KeyringModel;
    let storage: Storage;
    if (typeof versions !== 'object' || versions === null) {
      throw new ConfigError('"versions" expected { stateFile } or { keks }');
    }
    if ('stateFile' in versions && typeof versions.stateFile === 'string') {
      const path = versions.stateFile;
      storage = { kind: 'file', path, fs };
      const empty = serializeKeyring(new Map(), 'label');
      const bytes = await readOrCreatePrivateFile(fs, path, empty, STATE_LOCK, 'state file');
      model = parseStateFile(bytes, path);
    } else if ('keks' in versions && typeof versions.keks === 'object' && versions.keks !== null) {
      storage = { kind: 'static' };
      model = staticModel(versions.keks);
    } else {
      throw new ConfigError('"versions" expected { stateFile } or { keks }');
    }
    const secret = await loadSecret(options.secret, options.env ?? processEnv, fs);
    return new PlatformSecretKekProvider(model, secret, storage, now, options.refreshMs);
  }

  protected material(kekName: KekName, entry: KeyringEntry): Promise<Uint8Array> {
    return deriveKek(this.#secret, kekName, entry.tag);
  }

  protected nextEntry(_kekName: KekName, versions: readonly KeyringEntry[]): KeyringEntry {
    let n = versions.length + 1;
    while (versions.some((v) => v.tag === `v${n}`)) n++;
    return { tag: `v${n}`, createdAt: this.#now(), state: 'primary' };
  }

  protected override exclusive<T>(change: () => Promise<T>): Promise<T> {
    const storage = this.#storage;
    if (storage.kind === 'static') return change();
    return withFileLock(storage.fs, lockPathOf(storage.path), STATE_LOCK, change);
  }

  protected async save(model: KeyringModel): Promise<void> {
    const storage = this.#storage;
    if (storage.kind === 'static') {
      throw new ConfigError('platform-secret versions from configuration are read-only');
    }
    await writePrivateFile(
      storage.fs,
      storage.path,
      serializeKeyring(model, 'label'),
      'state file',
    );
  }

  protected async reload(): Promise<KeyringModel | undefined> {
    const storage = this.#storage;
    if (storage.kind === 'static') return undefined;
    const model = await readStateFile(storage.fs, storage.path);
    if (model === undefined) throw new ConfigError(`state file ${storage.path} disappeared`);
    return model;
  }

  override async close(): Promise<void> {
    await super.close();
    // NOTE: JavaScript cannot guarantee that zeroed secret bytes leave no copy elsewhere.
    this.#secret.fill(0);
  }
}

async function readStateFile(
  fs: PrivateFileSystem,
  path: string,
): Promise<KeyringModel | undefined> {
  const bytes = await readPrivateFile(fs, path, 'state file');
  return bytes === undefined ? undefined : parseStateFile(bytes, path);
}

function parseStateFile(bytes: Uint8Array, path: string): KeyringModel {
  let text: string;
  try {
    text = fromUtf8(bytes);
  } catch {
    throw new ConfigError(`state file ${path}: expected UTF-8 JSON`);
  }
  return parseKeyring(text, 'label', `state file ${path}`);
}

function staticModel(keks: Readonly<Record<KekName, readonly StaticKekVersion[]>>): KeyringModel {
  const model = new Map<KekName, readonly KeyringEntry[]>();
  for (const [kekName, list] of Object.entries(keks)) {
    checkKekName(kekName);
    const at = `platform-secret versions of ${kekName}`;
    if (!Array.isArray(list) || list.length === 0) {
      throw new ConfigError(`${at}: expected a non-empty list`);
    }
    const entries = list.map((v: StaticKekVersion, i): KeyringEntry => {
      if (typeof v?.label !== 'string' || !LABEL.test(v.label)) {
        throw new ConfigError(`${at}: [${i}].label expected 1 to 64 of A-Z a-z 0-9 . _ -`);
      }
      const createdAt = new Date(v.createdAt ?? 0);
      if (Number.isNaN(createdAt.getTime())) {
        throw new ConfigError(`${at}: [${i}].createdAt expected a date`);
      }
      const last = i === list.length - 1;
      if (last && v.disabled === true) {
        throw new ConfigError(`${at}: the last label is primary and cannot be disabled`);
      }
      const state = last ? 'primary' : v.disabled === true ? 'disabled' : 'active';
      return { tag: v.label, createdAt, state };
    });
    if (new Set(entries.map((e) => e.tag)).size !== entries.length) {
      throw new ConfigError(`${at}: expected distinct labels`);
    }
    model.set(kekName, entries);
  }
  return model;
}
