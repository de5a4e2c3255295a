/**
 * An in-memory `KekProvider` for tests and examples. KEK material lives in the process and dies
 * with it: never use it for data you want to keep.
 */
import { encodeDekBinding } from '../dek-binding.ts';
import { assertDekId } from '../dek-id.ts';
import { ConfigError, DecryptionError, InputError, KekRefError } from '../errors.ts';
import type {
  DekBinding,
  KekName,
  KekProvider,
  KekRef,
  KekVersion,
  KekVersionState,
  WrappedDek,
} from '../kek-provider.ts';
import { type AesGcmKey, cryptoBackend, randomBytes, randomGcmNonce } from '../primitives.ts';

const PROVIDER_ID = 'memory';
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const DEK_LENGTH = 32;
const WRAP_LABEL = 'rekey/memory-wrap/v1';

/** Options of {@link MemoryKekProvider}. */
export interface MemoryKekProviderOptions {
  /** KEK names that get a primary version `v1` right away. */
  readonly initialKeks?: readonly KekName[];
  /** Clock for `createdAt`; defaults to the system clock. */
  readonly now?: () => Date;
}

interface Version {
  readonly ref: KekRef;
  readonly kekName: KekName;
  state: KekVersionState;
  readonly createdAt: Date;
  material: Uint8Array;
  key: Promise<AesGcmKey> | undefined;
}

/**
 * A `KekProvider` that keeps KEK versions in memory and wraps DEKs in process with AES-256-GCM.
 * Refs look like `memory:<kekName>/v<n>`. For tests and examples only.
 *
 * A wrapped DEK is `iv (12) || ciphertext (32) || tag (16)`; the GCM additional data binds the
 * DEK id, scope, KEK name and KEK ref as length-prefixed fields, so a wrapped DEK copied to
 * another DEK record (or relabelled with another ref) does not unwrap.
 *
 * @example
 * ```ts
 * const provider = new MemoryKekProvider({ initialKeks: ['pii'] });
 * const wrapped = await provider.wrap(dek, { dekId, scope: 'tenant-1', kekName: 'pii' });
 * ```
 */
export class MemoryKekProvider implements KekProvider {
  readonly id: string = PROVIDER_ID;
  readonly #byName = new Map<KekName, Version[]>();
  readonly #byRef = new Map<KekRef, Version>();
  readonly #now: () => Date;

  constructor(options: MemoryKekProviderOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    for (const name of options.initialKeks ?? []) this.#addVersion(name);
  }

  /**
   * Wraps a DEK with the primary version of `binding.kekName`, or with `target`.
   *
   * @throws {InputError} when the DEK is not 32 bytes or the binding is malformed.
   * @throws {KekRefError} when `target` is unknown, disabled or of another KEK name, or the KEK
   * name has no versions.
   */
  async wrap(dek: Uint8Array, binding: DekBinding, target?: KekRef): Promise<WrappedDek> {
    if (!(dek instanceof Uint8Array) || dek.length !== DEK_LENGTH) {
      throw new InputError(`"dek" expected ${DEK_LENGTH} bytes`);
    }
    checkBinding(binding);
    const version = target === undefined ? this.#primary(binding.kekName) : this.#known(target);
    if (version.kekName !== binding.kekName) throw new KekRefError('KEK_REF_UNKNOWN', version.ref);
    if (version.state === 'disabled') throw new KekRefError('KEK_REF_DISABLED', version.ref);

    const iv = randomGcmNonce();
    // The IV goes in as the output's prefix: `iv || ciphertext || tag` in one buffer.
    const bytes = await cryptoBackend.aesGcmSeal(
      await this.#key(version),
      iv,
      dek,
      wrapAad(binding, version.ref),
      iv,
    );
    return { kekRef: version.ref, bytes };
  }

  /**
   * Unwraps a DEK wrapped by this provider with the same binding.
   *
   * @throws {KekRefError} `KEK_REF_UNKNOWN` or `KEK_REF_DISABLED`.
   * @throws {DecryptionError} when the bytes or the binding do not match.
   */
  async unwrap(wrapped: WrappedDek, binding: DekBinding): Promise<Uint8Array> {
    checkBinding(binding);
    const version = this.#known(wrapped.kekRef);
    if (version.state === 'disabled') throw new KekRefError('KEK_REF_DISABLED', version.ref);
    const bytes = wrapped.bytes;
    if (!(bytes instanceof Uint8Array) || bytes.length !== IV_LENGTH + DEK_LENGTH + TAG_LENGTH) {
      throw new DecryptionError();
    }

    return cryptoBackend.aesGcmOpen(
      await this.#key(version),
      bytes.subarray(0, IV_LENGTH),
      bytes.subarray(IV_LENGTH),
      wrapAad(binding, version.ref),
    );
  }

  /**
   * The ref of the primary version of a KEK name.
   *
   * @throws {KekRefError} (`KEK_REF_UNKNOWN`) when the KEK name has no versions.
   */
  async primary(kekName: KekName): Promise<KekRef> {
    return this.#primary(kekName).ref;
  }

  /** Adds a version to a KEK name (v1 if it has none) and makes it primary. */
  async rotate(kekName: KekName): Promise<KekVersion> {
    return describeVersion(this.#addVersion(kekName));
  }

  /** Every version of a KEK name, oldest first. */
  async describe(kekName: KekName): Promise<readonly KekVersion[]> {
    return (this.#byName.get(kekName) ?? []).map(describeVersion);
  }

  /**
   * Disables a non-primary version.
   *
   * @throws {KekRefError} when the ref is unknown.
   * @throws {ConfigError} when the ref is the primary version.
   */
  async disable(ref: KekRef): Promise<void> {
    const version = this.#known(ref);
    if (version.state === 'primary') {
      throw new ConfigError(`cannot disable the primary kek version: ${ref}`);
    }
    version.state = 'disabled';
  }

  /** Zeroes the KEK material and drops imported keys. The provider is unusable afterwards. */
  async close(): Promise<void> {
    for (const version of this.#byRef.values()) {
      version.material.fill(0);
      const key = version.key;
      version.key = undefined;
      if (key !== undefined) (await key.catch(() => undefined))?.destroy();
    }
    this.#byRef.clear();
    this.#byName.clear();
  }

  #addVersion(kekName: KekName): Version {
    if (typeof kekName !== 'string' || kekName.length === 0 || kekName.includes('/')) {
      throw new InputError('"kekName" expected a non-empty string without "/"');
    }
    const versions = this.#byName.get(kekName) ?? [];
    for (const v of versions) if (v.state === 'primary') v.state = 'active';
    const version: Version = {
      ref: `${PROVIDER_ID}:${kekName}/v${versions.length + 1}`,
      kekName,
      state: 'primary',
      createdAt: this.#now(),
      material: randomBytes(32),
      key: undefined,
    };
    versions.push(version);
    this.#byName.set(kekName, versions);
    this.#byRef.set(version.ref, version);
    return version;
  }

  #primary(kekName: KekName): Version {
    const version = this.#byName.get(kekName)?.find((v) => v.state === 'primary');
    if (version === undefined) throw new KekRefError('KEK_REF_UNKNOWN', `memory:${kekName}`);
    return version;
  }

  #known(ref: KekRef): Version {
    const version = typeof ref === 'string' ? this.#byRef.get(ref) : undefined;
    if (version === undefined) {
      throw new KekRefError('KEK_REF_UNKNOWN', String(ref));
    }
    return version;
  }

  #key(version: Version): Promise<AesGcmKey> {
    // Imported once per version: importing per call costs more than the wrap itself.
    version.key ??= cryptoBackend.importAesGcmKey(version.material);
    return version.key;
  }
}

function describeVersion(v: Version): KekVersion {
  return { ref: v.ref, kekName: v.kekName, state: v.state, createdAt: new Date(v.createdAt) };
}

function checkBinding(binding: DekBinding): void {
  assertDekId(binding?.dekId, 'dekId');
  if (typeof binding.scope !== 'string') throw new InputError('"scope" expected a string');
  if (typeof binding.kekName !== 'string' || binding.kekName.length === 0) {
    throw new InputError('"kekName" expected a non-empty string');
  }
}

function wrapAad(binding: DekBinding, ref: KekRef): Uint8Array {
  return encodeDekBinding(WRAP_LABEL, binding, ref);
}
