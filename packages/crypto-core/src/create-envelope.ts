/**
 * Envelope encryption end to end: DEKs per scope, wrapped by a `KekProvider`, kept in a
 * `DekStore`, unwrapped through a {@link DekCache}.
 */
import { fromUtf8 } from './bytes.ts';
import type { EncryptionContext } from './context.ts';
import { DataKey, generateDek } from './data-key.ts';
import { DekCache, type DekCacheOptions } from './dek-cache.ts';
import type { DekRecord, DekStore } from './dek-store.ts';
import { decrypt, encrypt } from './envelope.ts';
import { checkEnvelope, envelopeDekId, fromText, toText } from './envelope-format.ts';
import { DekNotFoundError, InputError } from './errors.ts';
import type { KekName, KekProvider } from './kek-provider.ts';

/** What {@link createEnvelope} works with. */
export interface EnvelopeConfig {
  /** Wraps new DEKs with the primary version of `kekName` and unwraps stored ones. */
  readonly provider: KekProvider;
  /** Where wrapped DEKs live. */
  readonly store: DekStore;
  /** The logical KEK that wraps the DEKs this envelope creates. */
  readonly kekName: KekName;
  /** A cache to share between envelopes, or bounds for a cache of this envelope's own. */
  readonly cache?: DekCache | DekCacheOptions;
}

/** Options of {@link Envelope.encrypt}. */
export interface EncryptOptions {
  /** The DEK's grouping (tenant, table, ...): one DEK per scope, shredded together. */
  readonly scope: string;
  /** What the ciphertext is bound to; decryption must present the same pairs. */
  readonly context?: EncryptionContext;
}

/** Options of {@link Envelope.decrypt}. */
export interface DecryptOptions {
  /** The context the ciphertext was encrypted with. */
  readonly context?: EncryptionContext;
}

/** Envelope encryption bound to one provider, store and KEK name. */
export interface Envelope {
  /**
   * Encrypts with the scope's current DEK, creating and storing one on first use.
   *
   * @throws {InputError} for a malformed scope, plaintext or context.
   */
  encrypt(plaintext: Uint8Array | string, options: EncryptOptions): Promise<Uint8Array>;
  /** Like {@link Envelope.encrypt}, returning the text form (`rk:...`) for string columns. */
  encryptText(plaintext: string, options: EncryptOptions): Promise<string>;
  /**
   * Decrypts a binary or text envelope.
   *
   * @throws {FormatError} when the input is not a well-formed envelope.
   * @throws {DekNotFoundError} when its DEK is gone (never stored, or shredded).
   * @throws {DecryptionError} for another context or tampered bytes.
   */
  decrypt(envelope: Uint8Array | string, options?: DecryptOptions): Promise<Uint8Array>;
  /** Like {@link Envelope.decrypt}, decoding the plaintext as UTF-8. */
  decryptText(envelope: Uint8Array | string, options?: DecryptOptions): Promise<string>;
  /**
   * Crypto-shredding: deletes every DEK of a scope and evicts them from the cache, so whatever
   * they encrypted can never be decrypted again. Returns how many DEKs went.
   */
  shred(scope: string): Promise<number>;
  /** Zeroes the cached DEKs when the cache is this envelope's own (a shared one is left). */
  close(): void;
}

/**
 * Envelope encryption over a provider and a store: one DEK per scope, wrapped by the primary
 * version of `kekName`; data ciphertexts carry their DEK id, so decryption finds the DEK
 * whichever KEK version wraps it now.
 *
 * Two processes that encrypt for a new scope at the same moment each create a DEK: the scope
 * then has two, both valid; later encryptions use the newest and both keep decrypting.
 *
 * @example
 * ```ts
 * const envelope = createEnvelope({ provider, store, kekName: 'pii' });
 * const ciphertext = await envelope.encrypt('alice@example.com', {
 *   scope: 'tenant-1',
 *   context: { table: 'users', column: 'email', row: '42' },
 * });
 * ```
 */
export function createEnvelope(config: EnvelopeConfig): Envelope {
  const { provider, store, kekName } = config;
  if (typeof kekName !== 'string' || kekName.length === 0) {
    throw new InputError('"kekName" expected a non-empty string');
  }
  const ownCache = !(config.cache instanceof DekCache);
  const cache = config.cache instanceof DekCache ? config.cache : new DekCache(config.cache);
  // One creation per scope and one unwrap per DEK at a time within this process.
  const creating = new Map<string, Promise<DataKey>>();
  const loading = new Map<string, Promise<DataKey>>();

  async function unwrapRecord(record: DekRecord): Promise<DataKey> {
    const dek = await provider.unwrap(
      { kekRef: record.kekRef, bytes: record.wrapped },
      { dekId: record.id, scope: record.scope, kekName: record.kekName },
    );
    try {
      return new DataKey(record.id, dek);
    } finally {
      dek.fill(0);
    }
  }

  /** A leased DataKey for a stored record: from the cache, or unwrapped once and cached. */
  async function leaseRecord(record: DekRecord): Promise<DataKey> {
    const cached = cache.lease(record.id);
    if (cached !== undefined) return cached;

    let pending = loading.get(record.id);
    if (pending === undefined) {
      pending = unwrapRecord(record).finally(() => loading.delete(record.id));
      loading.set(record.id, pending);
      const dataKey = await pending;
      return cache.add(dataKey, record.scope);
    }
    await pending;
    // Waiters lease what the first caller cached (or unwrap again if it was evicted already).
    return leaseRecord(record);
  }

  async function createDek(scope: string): Promise<DataKey> {
    const dataKey = generateDek();
    try {
      const wrapped = await provider.wrap(dataKey.keyBytes(), {
        dekId: dataKey.id,
        scope,
        kekName,
      });
      await store.insert({
        id: dataKey.id,
        scope,
        kekName,
        kekRef: wrapped.kekRef,
        wrapped: wrapped.bytes,
      });
    } catch (error) {
      dataKey.destroy();
      throw error;
    }
    return cache.add(dataKey, scope);
  }

  async function leaseCurrent(scope: string): Promise<DataKey> {
    const records = await store.findByScope(scope, kekName);
    const newest = records.at(-1);
    if (newest !== undefined) return leaseRecord(newest);

    let pending = creating.get(scope);
    if (pending === undefined) {
      pending = createDek(scope).finally(() => creating.delete(scope));
      creating.set(scope, pending);
      return pending;
    }
    await pending;
    return leaseCurrent(scope);
  }

  async function encryptBytes(
    plaintext: Uint8Array | string,
    options: EncryptOptions,
  ): Promise<Uint8Array> {
    checkScope(options?.scope);
    const dataKey = await leaseCurrent(options.scope);
    try {
      return await encrypt(dataKey, plaintext, options);
    } finally {
      cache.release(dataKey);
    }
  }

  async function decryptBytes(
    input: Uint8Array | string,
    options?: DecryptOptions,
  ): Promise<Uint8Array> {
    const envelope = typeof input === 'string' ? fromText(input) : input;
    checkEnvelope(envelope);
    const id = envelopeDekId(envelope);

    const record = await store.get(id);
    if (record === undefined) throw new DekNotFoundError(id);
    const dataKey = await leaseRecord(record);
    try {
      return await decrypt(dataKey, envelope, options);
    } finally {
      cache.release(dataKey);
    }
  }

  return {
    encrypt: encryptBytes,
    encryptText: async (plaintext, options) => toText(await encryptBytes(plaintext, options)),
    decrypt: decryptBytes,
    async decryptText(input, options) {
      const plaintext = await decryptBytes(input, options);
      try {
        return fromUtf8(plaintext);
      } catch (cause) {
        throw new InputError('"plaintext" is not valid UTF-8: use decrypt for bytes', { cause });
      }
    },
    async shred(scope) {
      checkScope(scope);
      const count = await store.deleteScope(scope);
      cache.evictScope(scope);
      return count;
    },
    close() {
      if (ownCache) cache.clear();
    },
  };
}

function checkScope(scope: unknown): asserts scope is string {
  if (typeof scope !== 'string' || scope.length === 0) {
    throw new InputError('"scope" expected a non-empty string');
  }
}
