/**
 * The common half of the providers that wrap in process (local keyring, platform secret): refs,
 * states, AES-256-GCM wrapping and serialised changes. Subclasses say where KEK material comes
 * from and where changes are kept. Internal to this package.
 */
import {
  type AesGcmKey,
  ConfigError,
  cryptoBackend,
  DecryptionError,
  type DekBinding,
  encodeDekBinding,
  type KekName,
  type KekProvider,
  type KekRef,
  KekRefError,
  type KekVersion,
  randomGcmNonce,
  type WrappedDek,
} from '@rekey/crypto-core';

import { checkBinding, checkDek, checkKekName, DEK_LENGTH } from './_checks.ts';
import {
  type KeyringEntry,
  type KeyringModel,
  withDisabled,
  withNewPrimary,
} from './_keyring-model.ts';

const IV_LENGTH = 12;
const TAG_LENGTH = 16;
/** A wrapped DEK is `iv (12) || ciphertext (32) || tag (16)`. */
const WRAPPED_LENGTH = IV_LENGTH + DEK_LENGTH + TAG_LENGTH;

interface Located {
  readonly kekName: KekName;
  readonly ref: KekRef;
  readonly entry: KeyringEntry;
}

/**
 * A `KekProvider` over a {@link KeyringModel}. Refs are `<id>:<kekName>/<tag>`. Changes
 * (`rotate`, `disable`) run one at a time, each inside `exclusive` (which a subclass whose store
 * other processes share makes a cross-process lock), start from a fresh `reload()` so that two
 * processes sharing a keyring see each other's versions, and take effect only once `save()`
 * succeeded.
 */
export abstract class InProcessKekProvider implements KekProvider {
  abstract readonly id: string;
  /** Domain label at the head of the GCM additional data, one per provider kind. */
  protected abstract readonly wrapLabel: string;

  #model: KeyringModel;
  #keys = new Map<KekRef, Promise<AesGcmKey>>();
  #changes: Promise<unknown> = Promise.resolve();
  #closed = false;
  readonly #refreshMs: number;
  #refreshedAt: number = Date.now();
  #refreshing: Promise<void> | undefined;

  /**
   * @param refreshMs - how often `wrap`, `primary` and `describe` re-read the stored keyring,
   * so that a long-running process follows rotations made elsewhere (0: on every call).
   */
  protected constructor(model: KeyringModel, refreshMs = 30_000) {
    this.#model = model;
    this.#refreshMs = refreshMs;
  }

  /** The 32 KEK bytes of a version. */
  protected abstract material(kekName: KekName, entry: KeyringEntry): Promise<Uint8Array>;
  /** True when `material` returns a fresh copy, zeroed once imported (derived keys). */
  protected readonly materialIsCopy: boolean = false;
  /** The next version of a KEK name (its state is set by the caller). */
  protected abstract nextEntry(kekName: KekName, versions: readonly KeyringEntry[]): KeyringEntry;
  /** Persists a changed model. @throws {ConfigError} when the keyring is read-only. */
  protected abstract save(model: KeyringModel): Promise<void>;
  /** The keyring as stored now, or `undefined` when it is not stored anywhere. */
  protected abstract reload(): Promise<KeyringModel | undefined>;

  /**
   * Runs one change (reload, apply, save) so that no other writer of the same store runs one
   * meanwhile. By default only this provider's own changes are kept apart; a subclass whose
   * store other processes change too takes a lock they all honour.
   */
  protected exclusive<T>(change: () => Promise<T>): Promise<T> {
    return change();
  }

  /**
   * Wraps a DEK with the primary version of `binding.kekName`, or with `target`.
   *
   * @throws {InputError} when the DEK is not 32 bytes or the binding is malformed.
   * @throws {KekRefError} when `target` is unknown, disabled or of another KEK name, or the KEK
   * name has no versions.
   */
  async wrap(dek: Uint8Array, binding: DekBinding, target?: KekRef): Promise<WrappedDek> {
    checkDek(dek);
    checkBinding(binding);
    this.#checkOpen();
    if (target === undefined) await this.#refreshIfDue();
    const found =
      target === undefined ? this.#primary(binding.kekName) : await this.#locate(target);
    if (found.kekName !== binding.kekName) throw new KekRefError('KEK_REF_UNKNOWN', found.ref);
    if (found.entry.state === 'disabled') throw new KekRefError('KEK_REF_DISABLED', found.ref);

    const iv = randomGcmNonce();
    const aad = encodeDekBinding(this.wrapLabel, binding, found.ref);
    // The IV goes in as the output's prefix: `iv || ciphertext || tag` in one buffer.
    // checkDek made the DEK 32 bytes, so this is always WRAPPED_LENGTH bytes.
    const bytes = await cryptoBackend.aesGcmSeal(await this.#key(found), iv, dek, aad, iv);
    return { kekRef: found.ref, bytes };
  }

  /**
   * Unwraps a DEK wrapped by this provider with the same binding.
   *
   * @throws {KekRefError} `KEK_REF_UNKNOWN` or `KEK_REF_DISABLED`, naming the ref.
   * @throws {DecryptionError} when the bytes or the binding do not match.
   */
  async unwrap(wrapped: WrappedDek, binding: DekBinding): Promise<Uint8Array> {
    checkBinding(binding);
    this.#checkOpen();
    const found = await this.#locate(wrapped?.kekRef);
    if (found.entry.state === 'disabled') throw new KekRefError('KEK_REF_DISABLED', found.ref);
    const bytes = wrapped.bytes;
    if (!(bytes instanceof Uint8Array) || bytes.length !== WRAPPED_LENGTH) {
      throw new DecryptionError();
    }

    const aad = encodeDekBinding(this.wrapLabel, binding, found.ref);
    const iv = bytes.subarray(0, IV_LENGTH);
    return cryptoBackend.aesGcmOpen(await this.#key(found), iv, bytes.subarray(IV_LENGTH), aad);
  }

  /**
   * The ref of the primary version of a KEK name.
   *
   * @throws {KekRefError} (`KEK_REF_UNKNOWN`) when the KEK name has no versions.
   */
  async primary(kekName: KekName): Promise<KekRef> {
    this.#checkOpen();
    await this.#refreshIfDue();
    return this.#primary(kekName).ref;
  }

  /** Every version of a KEK name, oldest first; empty when the name is unknown. */
  async describe(kekName: KekName): Promise<readonly KekVersion[]> {
    this.#checkOpen();
    await this.#refreshIfDue();
    return (this.#model.get(kekName) ?? []).map((entry) => ({
      ref: this.#ref(kekName, entry.tag),
      kekName,
      state: entry.state,
      createdAt: new Date(entry.createdAt),
    }));
  }

  /**
   * Adds a version to a KEK name (the first if it has none), makes it primary and saves.
   *
   * @throws {ConfigError} when the keyring is read-only.
   * @throws {KekUnavailableError} when the keyring cannot be written, or another process held
   * its lock too long; nothing changed then.
   */
  async rotate(kekName: KekName): Promise<KekVersion> {
    checkKekName(kekName);
    return this.#change(async (model) => {
      const entry = this.nextEntry(kekName, model.get(kekName) ?? []);
      const next = withNewPrimary(model, kekName, entry);
      const version = {
        ref: this.#ref(kekName, entry.tag),
        kekName,
        state: 'primary' as const,
        createdAt: new Date(entry.createdAt),
      };
      return { next, result: version };
    });
  }

  /**
   * Disables a non-primary version: its material is kept, but it no longer unwraps.
   *
   * @throws {KekRefError} when the ref is unknown.
   * @throws {ConfigError} when the ref is the primary version or the keyring is read-only.
   */
  async disable(ref: KekRef): Promise<void> {
    await this.#change(async (model) => {
      const found = this.#find(model, ref);
      if (found === undefined) throw new KekRefError('KEK_REF_UNKNOWN', String(ref));
      if (found.entry.state === 'primary') {
        throw new ConfigError(`cannot disable the primary kek version: ${found.ref}`);
      }
      if (found.entry.state === 'disabled') return { next: undefined, result: undefined };
      return { next: withDisabled(model, found.kekName, found.entry.tag), result: undefined };
    });
  }

  /** Drops imported keys and zeroes key material held in memory; later calls throw. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const keys = [...this.#keys.values()];
    this.#keys.clear();
    for (const key of keys) (await key.catch(() => undefined))?.destroy();
    // NOTE: JavaScript cannot guarantee that zeroed key bytes leave no copy elsewhere in memory.
    for (const versions of this.#model.values()) for (const v of versions) v.key?.fill(0);
    this.#model = new Map();
  }

  /** Runs one change at a time, from the freshest stored keyring, committing after `save`. */
  #change<T>(
    apply: (model: KeyringModel) => Promise<{ next: KeyringModel | undefined; result: T }>,
  ): Promise<T> {
    const run = this.#changes.then(() => {
      this.#checkOpen();
      return this.exclusive(async () => {
        const model = (await this.reload()) ?? this.#model;
        const { next, result } = await apply(model);
        if (next !== undefined) await this.save(next);
        this.#setModel(next ?? model);
        return result;
      });
    });
    this.#changes = run.catch(() => undefined);
    return run;
  }

  /** Re-reads the stored keyring when `refreshMs` passed since it was last read. */
  async #refreshIfDue(): Promise<void> {
    if (Date.now() - this.#refreshedAt < this.#refreshMs) return;
    // One read at a time, shared by every call that finds the keyring due.
    this.#refreshing ??= this.reload()
      .then((fresh) => {
        if (fresh !== undefined && !this.#closed) this.#setModel(fresh);
        else this.#refreshedAt = Date.now();
      })
      .finally(() => {
        this.#refreshing = undefined;
      });
    await this.#refreshing;
  }

  #setModel(model: KeyringModel): void {
    this.#model = model;
    this.#refreshedAt = Date.now();
  }

  #ref(kekName: KekName, tag: string): KekRef {
    return `${this.id}:${kekName}/${tag}`;
  }

  #primary(kekName: KekName): Located {
    const entry = this.#model.get(kekName)?.find((v) => v.state === 'primary');
    if (entry === undefined) throw new KekRefError('KEK_REF_UNKNOWN', `${this.id}:${kekName}`);
    return { kekName, ref: this.#ref(kekName, entry.tag), entry };
  }

  /** Finds a ref, reloading the stored keyring once when another process may have added it. */
  async #locate(ref: unknown): Promise<Located> {
    let found = this.#find(this.#model, ref);
    if (found === undefined && this.#parse(ref) !== undefined) {
      const fresh = await this.reload();
      if (fresh !== undefined) this.#setModel(fresh);
      found = this.#find(this.#model, ref);
    }
    if (found === undefined) throw new KekRefError('KEK_REF_UNKNOWN', String(ref));
    return found;
  }

  #find(model: KeyringModel, ref: unknown): Located | undefined {
    const parsed = this.#parse(ref);
    if (parsed === undefined) return undefined;
    const entry = model.get(parsed.kekName)?.find((v) => v.tag === parsed.tag);
    return entry === undefined ? undefined : { kekName: parsed.kekName, ref: ref as KekRef, entry };
  }

  #parse(ref: unknown): { kekName: KekName; tag: string } | undefined {
    if (typeof ref !== 'string' || !ref.startsWith(`${this.id}:`)) return undefined;
    const rest = ref.slice(this.id.length + 1);
    const slash = rest.lastIndexOf('/');
    if (slash <= 0) return undefined;
    return { kekName: rest.slice(0, slash), tag: rest.slice(slash + 1) };
  }

  #key(found: Located): Promise<AesGcmKey> {
    // Imported once per version: importing on every call costs more than the wrap itself.
    let key = this.#keys.get(found.ref);
    if (key === undefined) {
      key = this.material(found.kekName, found.entry).then(async (raw) => {
        try {
          return await cryptoBackend.importAesGcmKey(raw);
        } finally {
          if (this.materialIsCopy) raw.fill(0);
        }
      });
      this.#keys.set(found.ref, key);
      key.catch(() => this.#keys.delete(found.ref));
    }
    return key;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ConfigError(`${this.id} kek provider is closed`);
  }
}
