/**
 * An example KEK provider plugin: KEK versions kept as secrets in a secret manager, DEKs wrapped
 * in process with AES-256-GCM (WebCrypto). The secret manager is behind the small
 * {@link SecretStore} interface; {@link InMemorySecretStore} stands in for a real one here.
 * docs/plugins.md walks through it; test/examples/plugins.test.ts runs the conformance suite.
 */
import {
  ConfigError,
  DecryptionError,
  type DekBinding,
  encodeContext,
  InputError,
  type KekName,
  type KekProvider,
  type KekRef,
  KekRefError,
  type KekVersion,
  randomBytes,
  type WrappedDek,
} from '@rekey/crypto-core';

/** One stored KEK version. `key` is the secret; the rest is metadata. */
export interface KekSecret {
  readonly key: Uint8Array;
  readonly createdAt: Date;
  readonly disabled: boolean;
}

/** What the provider needs from a secret manager: versions of a named secret, appended only. */
export interface SecretStore {
  /** Every version of `name`, oldest first (version n at index n - 1). */
  versions(name: string): Promise<readonly KekSecret[]>;
  /** Appends a version and returns its number (1 for the first). */
  append(name: string, secret: KekSecret): Promise<number>;
  /** Marks a version disabled; the secret itself is kept. */
  disable(name: string, version: number): Promise<void>;
}

/** A {@link SecretStore} in process memory, for the example and its tests only. */
export class InMemorySecretStore implements SecretStore {
  readonly #secrets = new Map<string, KekSecret[]>();

  async versions(name: string): Promise<readonly KekSecret[]> {
    return [...(this.#secrets.get(name) ?? [])];
  }

  async append(name: string, secret: KekSecret): Promise<number> {
    const list = this.#secrets.get(name) ?? [];
    list.push(secret);
    this.#secrets.set(name, list);
    return list.length;
  }

  async disable(name: string, version: number): Promise<void> {
    const list = this.#secrets.get(name);
    const secret = list?.[version - 1];
    if (list === undefined || secret === undefined) throw new Error('no such version');
    list[version - 1] = { ...secret, disabled: true };
  }
}

const PROVIDER_ID = 'secret-store';
const IV_LENGTH = 12;
const WRAPPED_LENGTH = IV_LENGTH + 32 + 16;
// `secret-store:<kek name>/v<n>`: the ref names the exact version, so unwrap never guesses.
const REF = /^secret-store:([A-Za-z0-9_-]{1,128})\/v([1-9][0-9]{0,8})$/;

/** A `KekProvider` over any {@link SecretStore}. The last enabled-or-not version is primary. */
export class SecretStoreKekProvider implements KekProvider {
  readonly id: string = PROVIDER_ID;
  readonly #secrets: SecretStore;

  constructor(secrets: SecretStore) {
    this.#secrets = secrets;
  }

  async wrap(dek: Uint8Array, binding: DekBinding, target?: KekRef): Promise<WrappedDek> {
    if (dek.length !== 32) throw new InputError('"dek" expected 32 bytes');
    const kekRef = target ?? (await this.primary(binding.kekName));
    const key = await this.#usableKey(kekRef, binding.kekName);

    const iv = randomBytes(IV_LENGTH);
    // WebCrypto takes ArrayBuffer-backed views only; the copy is zeroed once sealed.
    const clear = new Uint8Array(dek);
    let sealed: ArrayBuffer;
    try {
      sealed = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv: new Uint8Array(iv), additionalData: aad(binding, kekRef) },
        key,
        clear,
      );
    } finally {
      clear.fill(0);
    }
    const bytes = new Uint8Array(WRAPPED_LENGTH);
    bytes.set(iv, 0);
    bytes.set(new Uint8Array(sealed), IV_LENGTH);
    return { kekRef, bytes };
  }

  async unwrap(wrapped: WrappedDek, binding: DekBinding): Promise<Uint8Array> {
    const key = await this.#usableKey(wrapped.kekRef);
    if (wrapped.bytes.length !== WRAPPED_LENGTH) throw new DecryptionError();

    try {
      const iv = wrapped.bytes.slice(0, IV_LENGTH);
      const opened = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: aad(binding, wrapped.kekRef) },
        key,
        wrapped.bytes.slice(IV_LENGTH),
      );
      return new Uint8Array(opened);
    } catch (cause) {
      // One answer for every failure: another binding, a changed byte, another key.
      throw new DecryptionError({ cause });
    }
  }

  async primary(kekName: KekName): Promise<KekRef> {
    const versions = await this.#secrets.versions(kekName);
    if (versions.length === 0) throw new KekRefError('KEK_REF_UNKNOWN', refOf(kekName, 1));
    return refOf(kekName, versions.length);
  }

  async rotate(kekName: KekName): Promise<KekVersion> {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(kekName)) throw new InputError('"kekName" is malformed');
    const createdAt = new Date();
    const version = await this.#secrets.append(kekName, {
      key: randomBytes(32),
      createdAt,
      disabled: false,
    });
    return { ref: refOf(kekName, version), kekName, state: 'primary', createdAt };
  }

  async describe(kekName: KekName): Promise<readonly KekVersion[]> {
    const versions = await this.#secrets.versions(kekName);
    return versions.map((secret, index) => ({
      ref: refOf(kekName, index + 1),
      kekName,
      state: secret.disabled ? 'disabled' : index === versions.length - 1 ? 'primary' : 'active',
      createdAt: secret.createdAt,
    }));
  }

  async disable(ref: KekRef): Promise<void> {
    const { kekName, version } = await this.#find(ref);
    if (ref === (await this.primary(kekName))) {
      throw new ConfigError(`cannot disable the primary version: ${ref}`);
    }
    await this.#secrets.disable(kekName, version);
  }

  /** The WebCrypto key of an enabled version, optionally checked to belong to `kekName`. */
  async #usableKey(ref: KekRef, kekName?: KekName): Promise<CryptoKey> {
    const found = await this.#find(ref);
    if (kekName !== undefined && found.kekName !== kekName) {
      throw new KekRefError('KEK_REF_UNKNOWN', ref);
    }
    if (found.secret.disabled) throw new KekRefError('KEK_REF_DISABLED', ref);
    // NOTE: JavaScript cannot promise that zeroing leaves no other copy of the key bytes (the
    // engine may have moved or copied them); this zeroes the one copy made here.
    const raw = new Uint8Array(found.secret.key);
    try {
      return await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
    } finally {
      raw.fill(0);
    }
  }

  async #find(ref: KekRef): Promise<{ kekName: string; version: number; secret: KekSecret }> {
    const match = REF.exec(ref);
    const kekName = match?.[1];
    const version = Number(match?.[2]);
    const secret =
      kekName === undefined ? undefined : (await this.#secrets.versions(kekName))[version - 1];
    if (kekName === undefined || secret === undefined || refOf(kekName, version) !== ref) {
      throw new KekRefError('KEK_REF_UNKNOWN', ref);
    }
    return { kekName, version, secret };
  }
}

function refOf(kekName: string, version: number): KekRef {
  return `${PROVIDER_ID}:${kekName}/v${version}`;
}

/** GCM additional data: the binding and the ref, canonically encoded (length-prefixed, sorted). */
function aad(binding: DekBinding, kekRef: KekRef): Uint8Array<ArrayBuffer> {
  const encoded = encodeContext({
    'dek-id': binding.dekId,
    scope: binding.scope,
    'kek-name': binding.kekName,
    'kek-ref': kekRef,
  });
  return new Uint8Array(encoded);
}
