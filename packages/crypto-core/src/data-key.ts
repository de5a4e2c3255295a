/**
 * A DEK in memory, with the AES-GCM subkeys derived from it (docs/format.md, "Subkeys").
 *
 * NOTE: JavaScript cannot guarantee that zeroed key bytes leave no copy behind: the garbage
 * collector may have moved them, and runtimes keep their own copies of imported keys. Zeroing
 * narrows the window; it does not close it.
 */
import type { AesGcmKey, CryptoBackend } from './backend/types.ts';
import { concatBytes, utf8 } from './bytes.ts';
import { dekIdToBytes, newDekId } from './dek-id.ts';
import { InputError } from './errors.ts';
import { cryptoBackend, randomBytes } from './primitives.ts';

/** DEK length in bytes (AES-256). */
export const DEK_LENGTH = 32;
/** Messages one subkey encrypts before the encrypting side picks a fresh key nonce. */
export const MESSAGES_PER_SUBKEY: number = 2 ** 24;
/** Subkeys a data key keeps for decryption, besides the one it encrypts with. */
const SEEN_SUBKEYS = 16;
const SUBKEY_LABEL = utf8('rekey/v1 subkey');
const KEY_NONCE_LENGTH = 12;

/**
 * An AES-256-GCM subkey with its commitment, derived from a DEK for one key nonce. Handed out
 * with a lease: it is destroyed once it is evicted AND no operation holds it any more.
 */
export interface Subkey {
  readonly keyNonce: Uint8Array;
  readonly key: AesGcmKey;
  readonly commitment: Uint8Array;
}

type SubkeyEntry = SubkeyState | Promise<SubkeyState>;

interface SubkeyState extends Subkey {
  /** Messages encrypted with it (encrypting subkeys only). */
  uses: number;
  leases: number;
  evicted: boolean;
}

/** Options of {@link DataKey}. */
export interface DataKeyOptions {
  /**
   * Messages per subkey before a fresh key nonce is drawn: 1 to 2^24 (the default). Lower values
   * exist for tests.
   */
  readonly messagesPerSubkey?: number;
  /** The backend that derives and uses the subkeys; defaults to this runtime's. */
  readonly backend?: CryptoBackend;
}

/**
 * A DEK in clear, held in memory to encrypt and decrypt envelopes, with its id. Keep it only as
 * long as needed and call {@link DataKey.destroy} when done; the DEK cache does this for you.
 *
 * @example
 * ```ts
 * const dataKey = generateDek();
 * const envelope = await encrypt(dataKey, 'secret', { context: { row: '42' } });
 * ```
 */
export class DataKey {
  /** The DEK id, canonical lowercase UUID form. */
  readonly id: string;
  /** The 16 bytes of the id, as written in envelope headers. */
  readonly idBytes: Uint8Array;
  /** The backend that derives and uses this key's subkeys. */
  readonly backend: CryptoBackend;
  #dek: Uint8Array | undefined;
  readonly #messagesPerSubkey: number;
  #current: SubkeyState | undefined;
  #next: Promise<SubkeyState> | undefined;
  /** Subkeys for decryption by key nonce, least recently used first. */
  readonly #seen = new Map<string, SubkeyEntry>();

  /**
   * Wraps a copy of existing DEK bytes (for example just unwrapped by a provider).
   *
   * @throws {InputError} when the id is not canonical or the DEK is not 32 bytes.
   */
  constructor(id: string, dek: Uint8Array, options: DataKeyOptions = {}) {
    if (!(dek instanceof Uint8Array) || dek.length !== DEK_LENGTH) {
      throw new InputError(`"dek" expected ${DEK_LENGTH} bytes`);
    }
    const limit = options.messagesPerSubkey ?? MESSAGES_PER_SUBKEY;
    if (!Number.isInteger(limit) || limit < 1 || limit > MESSAGES_PER_SUBKEY) {
      throw new InputError('"messagesPerSubkey" expected an integer from 1 to 2^24');
    }
    this.idBytes = dekIdToBytes(id);
    this.id = id;
    this.#dek = dek.slice();
    this.#messagesPerSubkey = limit;
    this.backend = options.backend ?? cryptoBackend;
  }

  /** True once {@link DataKey.destroy} ran: the key refuses every further use. */
  get destroyed(): boolean {
    return this.#dek === undefined;
  }

  /**
   * The DEK bytes themselves, to hand to a `KekProvider` for wrapping. Not a copy: do not keep
   * or change them; they are zeroed by {@link DataKey.destroy}.
   *
   * @throws {InputError} when the key was destroyed.
   */
  keyBytes(): Uint8Array {
    if (this.#dek === undefined) throw new InputError('"dataKey" was destroyed');
    return this.#dek;
  }

  /**
   * Zeroes the DEK and destroys its subkeys (those in use by an operation right now go as soon
   * as it finishes). Idempotent.
   */
  destroy(): void {
    this.#dek?.fill(0);
    this.#dek = undefined;
    if (this.#current !== undefined) evict(this.#current);
    this.#current = undefined;
    for (const entry of this.#seen.values()) {
      if (entry instanceof Promise) entry.then(evict, () => {});
      else evict(entry);
    }
    this.#seen.clear();
  }

  /**
   * Leases the subkey to encrypt the next message with, drawing a fresh key nonce every
   * `messagesPerSubkey` messages. Synchronous except when a subkey must be derived. Pair every
   * lease with {@link DataKey.release}. Used by `encrypt`; not needed by applications.
   *
   * @internal
   * @throws {InputError} when the key was destroyed.
   */
  leaseForEncryption(): Subkey | Promise<Subkey> {
    const current = this.#current;
    if (current !== undefined && current.uses < this.#messagesPerSubkey) {
      current.uses++;
      current.leases++;
      return current;
    }
    return this.#rollOver();
  }

  /**
   * Leases the subkey for a key nonce read from an envelope, deriving it at most once while it
   * stays among the recently seen ones. Pair every lease with {@link DataKey.release}. Used by
   * `decrypt`; not needed by applications.
   *
   * @internal
   * @throws {InputError} when the key was destroyed.
   */
  leaseFor(keyNonce: Uint8Array): Subkey | Promise<Subkey> {
    const current = this.#current;
    if (current !== undefined && sameBytes(current.keyNonce, keyNonce)) {
      current.leases++;
      return current;
    }

    const name = nonceKey(keyNonce);
    const entry = this.#seen.get(name);
    if (entry === undefined) return this.#leaseNew(name, keyNonce.slice());
    // Re-insert to keep the map in least-recently-used order.
    this.#seen.delete(name);
    this.#seen.set(name, entry);
    if (entry instanceof Promise) return entry.then(lease);
    return lease(entry);
  }

  /**
   * Returns a lease; destroys the subkey if it was evicted meanwhile and no one else holds it.
   *
   * @internal
   */
  release(subkey: Subkey): void {
    const state = subkey as SubkeyState;
    state.leases--;
    if (state.evicted && state.leases === 0) state.key.destroy();
  }

  async #rollOver(): Promise<Subkey> {
    this.#next ??= this.#derive(randomBytes(KEY_NONCE_LENGTH)).then(
      (state) => {
        this.#next = undefined;
        if (this.destroyed) {
          evict(state);
          throw new InputError('"dataKey" was destroyed');
        }
        if (this.#current !== undefined) this.#remember(this.#current);
        this.#current = state;
        return state;
      },
      (error: unknown) => {
        this.#next = undefined;
        throw error;
      },
    );
    const state = await this.#next;
    // Many callers may have waited on one derivation; past the limit they start the next one.
    if (state.uses >= this.#messagesPerSubkey) return this.#rollOver();
    state.uses++;
    return lease(state);
  }

  async #leaseNew(name: string, keyNonce: Uint8Array): Promise<Subkey> {
    const pending = this.#derive(keyNonce);
    this.#seen.set(name, pending);
    this.#trimSeen();
    let state: SubkeyState;
    try {
      state = await pending;
    } catch (error) {
      if (this.#seen.get(name) === pending) this.#seen.delete(name);
      throw error;
    }
    if (this.destroyed) {
      evict(state);
      throw new InputError('"dataKey" was destroyed');
    }
    if (this.#seen.get(name) === pending) this.#seen.set(name, state);
    // Evicted while its derivation ran: serve this one operation, then destroy it on release.
    else state.evicted = true;
    return lease(state);
  }

  /** Keeps a former encrypting subkey for decryption of what it encrypted. */
  #remember(state: SubkeyState): void {
    this.#seen.set(nonceKey(state.keyNonce), state);
    this.#trimSeen();
  }

  #trimSeen(): void {
    while (this.#seen.size > SEEN_SUBKEYS) {
      const [name, entry] = this.#seen.entries().next().value as [string, SubkeyEntry];
      this.#seen.delete(name);
      if (!(entry instanceof Promise)) evict(entry);
    }
  }

  /** T = HMAC-SHA-512(DEK, "rekey/v1 subkey" || id || KN); K = T[0..32), C = T[32..64). */
  async #derive(keyNonce: Uint8Array): Promise<SubkeyState> {
    const t = await this.backend.hmac(
      'SHA-512',
      this.keyBytes(),
      concatBytes(SUBKEY_LABEL, this.idBytes, keyNonce),
    );
    try {
      const key = await this.backend.importAesGcmKey(t.subarray(0, 32));
      const commitment = t.slice(32, 64);
      return { keyNonce, key, commitment, uses: 0, leases: 0, evicted: false };
    } finally {
      t.fill(0);
    }
  }
}

/**
 * A new random DEK with a new id.
 *
 * @example
 * ```ts
 * const dataKey = generateDek();
 * const wrapped = await provider.wrap(dataKey.keyBytes(), { dekId: dataKey.id, scope, kekName });
 * ```
 */
export function generateDek(options?: DataKeyOptions): DataKey {
  const dek = randomBytes(DEK_LENGTH);
  try {
    return new DataKey(newDekId(), dek, options);
  } finally {
    dek.fill(0);
  }
}

function lease(state: SubkeyState): SubkeyState {
  state.leases++;
  return state;
}

function evict(state: SubkeyState): void {
  state.evicted = true;
  if (state.leases === 0) state.key.destroy();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A map key for 12 nonce bytes (one UTF-16 code unit per byte). */
function nonceKey(keyNonce: Uint8Array): string {
  return String.fromCharCode(...keyNonce);
}
