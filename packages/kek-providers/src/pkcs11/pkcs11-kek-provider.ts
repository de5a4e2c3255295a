/**
 * The PKCS#11 `KekProvider`: KEK versions are AES-256 keys generated inside an HSM token, and
 * DEKs are wrapped by the token with CKM_AES_GCM, so KEK material never leaves the device.
 * Node-only: pkcs11js is a native addon (see README.md for Deno).
 */
import { Buffer } from 'node:buffer';

import {
  assertDekId,
  ConfigError,
  DecryptionError,
  type DekBinding,
  hasErrorCode,
  InputError,
  type KekName,
  type KekProvider,
  type KekRef,
  KekRefError,
  KekUnavailableError,
  type KekVersion,
  randomBytes,
  type WrappedDek,
} from '@rekey/crypto-core';

import {
  classifyDeviceError,
  decryptError,
  deviceError,
  isSessionLost,
  returnValueName,
} from './device-errors.ts';
import {
  type Pkcs11KekProviderOptions,
  type ResolvedOptions,
  readPin,
  resolveOptions,
} from './options.ts';
import { leaseModule, loginUser, type ModuleLease, type Pkcs11Handle } from './pkcs11-module.ts';
import { SessionPool } from './session-pool.ts';
import {
  disableKey,
  findVersionKeys,
  generateVersionKey,
  isKeyEnabled,
  type TokenKey,
  type TokenSession,
} from './token-keys.ts';
import {
  DEK_LENGTH,
  decodeWrapped,
  encodeWrapped,
  IV_LENGTH,
  isKekName,
  PKCS11_PROVIDER_ID,
  parseRef,
  TAG_LENGTH,
  type VersionName,
  versionRef,
  wrapAad,
} from './wrap-format.ts';

// Session states of PKCS#11 v2.40 section 5.6 (CK_STATE); pkcs11js does not export them.
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

/** Thrown inside a session when a cached object handle went stale; the call looks up again. */
class StaleKeyHandle extends Error {}

interface CachedPrimary {
  readonly version: number;
  readonly checkedAt: number;
}

/**
 * Opens a PKCS#11 provider: loads the module, finds the token by label, checks that it offers
 * CKM_AES_GCM, and logs in once for the whole pool of sessions.
 *
 * @throws {ConfigError} when an option is wrong, the PIN source is empty, the module does not
 * load, no token has the label, the token lacks CKM_AES_GCM, or the PIN is refused.
 * @throws {KekUnavailableError} when the token cannot be reached.
 * @example
 * ```ts
 * const provider = await openPkcs11KekProvider({
 *   modulePath: '/usr/lib/softhsm/libsofthsm2.so',
 *   tokenLabel: 'rekey',
 *   pin: { env: 'REKEY_HSM_PIN' },
 *   sessions: 4,
 * });
 * await provider.rotate('pii');
 * const wrapped = await provider.wrap(dek, { dekId, scope: 'tenant-1', kekName: 'pii' });
 * ```
 */
export async function openPkcs11KekProvider(
  options: Pkcs11KekProviderOptions,
): Promise<Pkcs11KekProvider> {
  const resolved = resolveOptions(options);
  const pin = await readPin(options.pin);
  const lease = await leaseModule(resolved.modulePath);
  let provider: Pkcs11KekProvider | undefined;
  try {
    const slot = findSlot(lease, resolved.tokenLabel);
    provider = new Pkcs11KekProvider(resolved, lease, slot, pin);
    await provider.login();
    return provider;
  } catch (error) {
    // close() also closes the session the failed login opened, then gives the lease back.
    if (provider === undefined) lease.release();
    else await provider.close();
    throw error;
  }
}

/**
 * A `KekProvider` whose KEKs live in a PKCS#11 token. Refs look like `pkcs11:<kekName>/v<n>`;
 * a wrapped DEK is `0x01 || key tag (8) || iv (12) || ciphertext (32) || GCM tag (16)`, with DEK
 * id, scope, KEK name and ref as GCM additional data. Create it with {@link openPkcs11KekProvider}.
 *
 * Concurrent calls each borrow a session of their own from a pool; one `C_Login` covers them all.
 * Node-only.
 */
export class Pkcs11KekProvider implements KekProvider {
  readonly id: string = PKCS11_PROVIDER_ID;
  readonly #options: ResolvedOptions;
  readonly #lease: ModuleLease;
  readonly #slot: Pkcs11Handle;
  readonly #pool: SessionPool<Pkcs11Handle>;
  readonly #keys = new Map<KekRef, readonly TokenKey[]>();
  readonly #primaries = new Map<KekName, CachedPrimary>();
  readonly #rotations = new Map<KekName, Promise<unknown>>();
  readonly #primaryLookups = new Map<KekName, Promise<number>>();
  #pin: string;
  #needsLogin = false;
  #active = 0;
  #onSettled: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  /** Use {@link openPkcs11KekProvider}. */
  constructor(options: ResolvedOptions, lease: ModuleLease, slot: Pkcs11Handle, pin: string) {
    this.#options = options;
    this.#lease = lease;
    this.#slot = slot;
    this.#pin = pin;
    const { api, pkcs11 } = lease;
    this.#pool = new SessionPool<Pkcs11Handle>({
      size: options.sessions,
      open: () => {
        try {
          return pkcs11.C_OpenSession(slot, api.CKF_SERIAL_SESSION | api.CKF_RW_SESSION);
        } catch (error) {
          throw this.#fail('open session', error);
        }
      },
      close: (session) => pkcs11.C_CloseSession(session),
      // A session met by a session, token or login failure is dropped, never lent again.
      isFatal: (error) => hasErrorCode(error, 'KEK_UNAVAILABLE'),
    });
  }

  /**
   * Logs in on the token (once per process and token). Called by {@link openPkcs11KekProvider}.
   *
   * @throws {ConfigError} when the PIN is refused.
   */
  async login(): Promise<void> {
    await this.#pool.use((session) => this.#lease.login(this.#slot, session, this.#pin));
  }

  /**
   * Wraps a 32-byte DEK inside the token with the primary version of `binding.kekName`, or with
   * `target`.
   *
   * @throws {InputError} when the DEK is not 32 bytes or the binding is malformed.
   * @throws {KekRefError} when `target` is unknown, disabled or of another KEK name, or the KEK
   * name has no versions.
   * @throws {KekUnavailableError} when the token, the session or the login is gone.
   */
  wrap(dek: Uint8Array, binding: DekBinding, target?: KekRef): Promise<WrappedDek> {
    return this.#track(async () => {
      checkDek(dek);
      checkBinding(binding);
      const name =
        target === undefined ? await this.#primaryName(binding.kekName) : parseRef(target);
      if (name === undefined || name.kekName !== binding.kekName) {
        throw new KekRefError('KEK_REF_UNKNOWN', String(target));
      }

      const ref = versionRef(name.kekName, name.version);
      const iv = randomBytes(IV_LENGTH);
      const aad = wrapAad(binding, ref);
      return this.#withKey(ref, name, async (t, keys) => {
        const key = keys[0] as TokenKey;
        const sealed = await this.#encrypt(t, key, ref, iv, aad, dek);
        return { kekRef: ref, bytes: encodeWrapped({ keyTag: key.tag, iv, sealed }) };
      });
    });
  }

  /**
   * Unwraps a DEK inside the token. The length and format byte are checked before the token is
   * asked; every refusal of the token is the same `DecryptionError`.
   *
   * @throws {DecryptionError} when the bytes, the binding or the key do not match.
   * @throws {KekRefError} when the ref is unknown or its version is disabled.
   * @throws {KekUnavailableError} when the token, the session or the login is gone.
   */
  unwrap(wrapped: WrappedDek, binding: DekBinding): Promise<Uint8Array> {
    return this.#track(async () => {
      checkBinding(binding);
      const ref = wrapped?.kekRef;
      const name = parseRef(ref);
      if (name === undefined) throw new KekRefError('KEK_REF_UNKNOWN', String(ref));
      const parts = decodeWrapped(wrapped.bytes);

      return this.#withKey(ref, name, async (t, keys) => {
        const key = parts === undefined ? undefined : this.#keyWithTag(t, ref, keys, parts.keyTag);
        if (parts === undefined || key === undefined || name.kekName !== binding.kekName) {
          // Refuse a disabled version the same way whatever its bytes, as the token would.
          if (!this.#call('read key state', () => isKeyEnabled(t, (keys[0] as TokenKey).handle))) {
            throw new KekRefError('KEK_REF_DISABLED', ref);
          }
          throw new DecryptionError();
        }
        return this.#decrypt(t, key, ref, parts.iv, parts.sealed, wrapAad(binding, ref));
      });
    });
  }

  /**
   * The ref of the primary version: the highest version in the token. Cached for
   * `primaryCacheMs`; rotations through this provider update the cache at once.
   *
   * @throws {KekRefError} (`KEK_REF_UNKNOWN`) when the KEK name has no versions.
   * @throws {InputError} when the KEK name is malformed.
   */
  primary(kekName: KekName): Promise<KekRef> {
    return this.#track(async () => {
      checkKekName(kekName);
      const name = await this.#primaryName(kekName);
      return versionRef(name.kekName, name.version);
    });
  }

  /**
   * Generates the next version inside the token and makes it primary. Rotations of one KEK name
   * run one at a time in this process; two processes rotating at the same moment may both create
   * the same version number, and then both get it back (see token-keys.ts).
   *
   * @throws {InputError} when the KEK name is malformed.
   * @throws {KekUnavailableError} when the token refuses to generate the key.
   */
  rotate(kekName: KekName): Promise<KekVersion> {
    return this.#track(async () => {
      checkKekName(kekName);
      const previous = this.#rotations.get(kekName) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => this.#rotate(kekName));
      this.#rotations.set(kekName, next);
      try {
        return await next;
      } finally {
        if (this.#rotations.get(kekName) === next) this.#rotations.delete(kekName);
      }
    });
  }

  /**
   * Every version of a KEK name, oldest first, read from the token. Empty when it has none.
   *
   * @throws {InputError} when the KEK name is malformed.
   */
  describe(kekName: KekName): Promise<readonly KekVersion[]> {
    return this.#track(async () => {
      checkKekName(kekName);
      const states = await this.#session((t) => {
        const out: { version: number; key: TokenKey; enabled: boolean }[] = [];
        for (let version = 1; ; version++) {
          const keys = this.#findKeys(t, kekName, version);
          const key = keys[0];
          if (key === undefined) break;
          this.#keys.set(versionRef(kekName, version), keys);
          out.push({
            version,
            key,
            enabled: this.#call('read key state', () => isKeyEnabled(t, key.handle)),
          });
        }
        return out;
      });

      this.#rememberPrimary(kekName, states.length);
      return states.map(({ version, key, enabled }) => ({
        ref: versionRef(kekName, version),
        kekName,
        state: !enabled ? 'disabled' : version === states.length ? 'primary' : 'active',
        createdAt: new Date(key.createdAt),
      }));
    });
  }

  /**
   * Disables a non-primary version by turning `CKA_ENCRYPT` and `CKA_DECRYPT` off on its key
   * objects: the token itself refuses it from then on, in every process. The material is kept.
   *
   * @throws {KekRefError} when the ref is unknown.
   * @throws {ConfigError} when the ref is the primary version, or the token does not let the
   * attributes change.
   */
  disable(ref: KekRef): Promise<void> {
    return this.#track(async () => {
      const name = parseRef(ref);
      if (name === undefined) throw new KekRefError('KEK_REF_UNKNOWN', String(ref));

      await this.#session((t) => {
        const keys = this.#findKeys(t, name.kekName, name.version);
        if (keys.length === 0) throw new KekRefError('KEK_REF_UNKNOWN', ref);
        const highest = this.#highestVersion(t, name.kekName, name.version);
        if (name.version === highest) {
          throw new ConfigError(`cannot disable the primary kek version: ${ref}`);
        }
        for (const key of keys) {
          try {
            disableKey(t, key.handle);
          } catch (error) {
            if (returnValueName(error) === 'CKR_ATTRIBUTE_READ_ONLY') {
              throw new ConfigError(`pkcs11 token does not let ${ref} be disabled (CKA_DECRYPT)`);
            }
            throw this.#fail('disable key', error);
          }
        }
      });
    });
  }

  /**
   * Waits for calls in flight, logs out (when no other provider in the process uses the token),
   * closes every session and finalizes the module when this was its last user. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#settled()
      .then(() =>
        this.#pool.close((idle) => {
          const { pkcs11, api } = this.#lease;
          let session = idle;
          try {
            session ??= pkcs11.C_OpenSession(this.#slot, api.CKF_SERIAL_SESSION);
            this.#lease.logout(this.#slot, session);
            if (idle === undefined) pkcs11.C_CloseSession(session);
          } catch {
            // The token is gone: there is no login left to end.
          }
        }),
      )
      .finally(() => {
        this.#lease.release();
        this.#keys.clear();
        this.#primaries.clear();
        this.#pin = '';
      });
    return this.#closing;
  }

  /**
   * Runs a public call unless the provider is closing, and counts it so `close` can wait for it.
   * The count goes up synchronously, so a call made just before `close()` still completes.
   */
  async #track<T>(call: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) throw new KekUnavailableError('pkcs11 provider is closed');
    this.#active++;
    try {
      return await call();
    } finally {
      this.#active--;
      if (this.#active === 0) this.#onSettled?.();
    }
  }

  /** Resolves once no public call is running. */
  #settled(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onSettled = resolve;
    });
  }

  async #rotate(kekName: KekName): Promise<KekVersion> {
    const created = await this.#session((t) => {
      // Versions are never removed, so the cached primary is a safe place to probe upwards from.
      const known = this.#primaries.get(kekName)?.version ?? 0;
      const version = this.#highestVersion(t, kekName, known) + 1;
      this.#call('generate key', () =>
        generateVersionKey(t, kekName, version, this.#options.now()),
      );
      const keys = this.#findKeys(t, kekName, version);
      this.#keys.set(versionRef(kekName, version), keys);
      return { version, key: keys[0] as TokenKey };
    }, false);

    this.#rememberPrimary(kekName, created.version);
    return {
      ref: versionRef(kekName, created.version),
      kekName,
      state: 'primary',
      createdAt: new Date(created.key.createdAt),
    };
  }

  async #primaryName(kekName: KekName): Promise<VersionName> {
    const cached = this.#primaries.get(kekName);
    if (
      cached !== undefined &&
      performance.now() - cached.checkedAt < this.#options.primaryCacheMs
    ) {
      return { kekName, version: cached.version };
    }
    // One lookup per KEK name at a time: a burst of wraps after the cache expires shares it.
    let lookup = this.#primaryLookups.get(kekName);
    if (lookup === undefined) {
      lookup = this.#session((t) => this.#highestVersion(t, kekName, cached?.version ?? 0));
      this.#primaryLookups.set(kekName, lookup);
      const forget = () => this.#primaryLookups.delete(kekName);
      lookup.then(forget, forget);
    }
    const version = await lookup;
    if (version === 0) throw new KekRefError('KEK_REF_UNKNOWN', `${PKCS11_PROVIDER_ID}:${kekName}`);
    this.#rememberPrimary(kekName, version);
    return { kekName, version };
  }

  /** The highest version in the token, probing upwards from one known to exist (0: none). */
  #highestVersion(t: TokenSession, kekName: KekName, known: number): number {
    let version = known;
    for (;;) {
      const keys = this.#findKeys(t, kekName, version + 1);
      if (keys.length === 0) return version;
      version++;
      this.#keys.set(versionRef(kekName, version), keys);
    }
  }

  #rememberPrimary(kekName: KekName, version: number): void {
    if (version === 0) this.#primaries.delete(kekName);
    else this.#primaries.set(kekName, { version, checkedAt: performance.now() });
  }

  /**
   * Runs `operation` in a session with the key objects of `ref`, looked up once and cached.
   * A stale cached handle (the object was deleted and maybe re-created) is looked up again once.
   */
  async #withKey<T>(
    ref: KekRef,
    name: VersionName,
    operation: (t: TokenSession, keys: readonly TokenKey[]) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#session(async (t) => {
          let keys = this.#keys.get(ref);
          if (keys === undefined) {
            keys = this.#findKeys(t, name.kekName, name.version);
            if (keys.length === 0) throw new KekRefError('KEK_REF_UNKNOWN', ref);
            this.#keys.set(ref, keys);
          }
          return operation(t, keys);
        });
      } catch (error) {
        if (!(error instanceof StaleKeyHandle)) throw error;
        this.#keys.delete(ref);
        if (attempt > 0) throw new KekRefError('KEK_REF_UNKNOWN', ref);
      }
    }
  }

  /** The key object that wrapped a DEK, by tag; looks again when another process added one. */
  #keyWithTag(
    t: TokenSession,
    ref: KekRef,
    keys: readonly TokenKey[],
    tag: Uint8Array,
  ): TokenKey | undefined {
    const found = keys.find((k) => Buffer.compare(k.tag, tag) === 0);
    if (found !== undefined) return found;
    const name = parseRef(ref) as VersionName;
    const fresh = this.#findKeys(t, name.kekName, name.version);
    this.#keys.set(ref, fresh);
    return fresh.find((k) => Buffer.compare(k.tag, tag) === 0);
  }

  async #encrypt(
    t: TokenSession,
    key: TokenKey,
    ref: KekRef,
    iv: Uint8Array,
    aad: Uint8Array,
    dek: Uint8Array,
  ): Promise<Uint8Array> {
    this.#init('encrypt', ref, () =>
      t.pkcs11.C_EncryptInit(t.session, gcm(t, iv, aad), key.handle),
    );

    // Our own copies: the worker thread reads and writes them after this function yields, so
    // they stay referenced (and are zeroed) until the call is over.
    const input = Buffer.from(dek);
    const output = Buffer.alloc(DEK_LENGTH + TAG_LENGTH);
    try {
      const sealed =
        this.#options.calls === 'async'
          ? await t.pkcs11.C_EncryptAsync(t.session, input, output)
          : t.pkcs11.C_Encrypt(t.session, input, output);
      if (sealed.length !== DEK_LENGTH + TAG_LENGTH) {
        throw new KekUnavailableError('pkcs11 encrypt returned an unexpected length');
      }
      return new Uint8Array(sealed);
    } catch (error) {
      throw error instanceof KekUnavailableError ? error : this.#fail('encrypt', error);
    } finally {
      input.fill(0);
    }
  }

  async #decrypt(
    t: TokenSession,
    key: TokenKey,
    ref: KekRef,
    iv: Uint8Array,
    sealed: Uint8Array,
    aad: Uint8Array,
  ): Promise<Uint8Array> {
    this.#init('decrypt', ref, () =>
      t.pkcs11.C_DecryptInit(t.session, gcm(t, iv, aad), key.handle),
    );

    const input = Buffer.from(sealed);
    // As large as the input: some tokens want room for the tag too.
    const output = Buffer.alloc(sealed.length);
    try {
      const plain =
        this.#options.calls === 'async'
          ? await t.pkcs11.C_DecryptAsync(t.session, input, output)
          : t.pkcs11.C_Decrypt(t.session, input, output);
      if (plain.length !== DEK_LENGTH) throw new DecryptionError();
      return new Uint8Array(plain);
    } catch (error) {
      if (error instanceof DecryptionError) throw error;
      if (classifyDeviceError(error) === 'unavailable') this.#needsLogin = true;
      throw decryptError(error);
    } finally {
      // NOTE: JavaScript cannot guarantee that zeroed key bytes leave no copy behind.
      output.fill(0);
      input.fill(0);
    }
  }

  /** `C_EncryptInit` / `C_DecryptInit`, where a disabled key and a stale handle show up. */
  #init(operation: string, ref: KekRef, call: () => void): void {
    try {
      call();
    } catch (error) {
      const kind = classifyDeviceError(error);
      if (kind === 'key-disabled') throw new KekRefError('KEK_REF_DISABLED', ref);
      if (kind === 'stale-handle') throw new StaleKeyHandle();
      throw this.#fail(`${operation} init`, error);
    }
  }

  /** Runs a synchronous PKCS#11 call, turning its failure into a rekey error. */
  #call<T>(operation: string, call: () => T): T {
    try {
      return call();
    } catch (error) {
      throw this.#fail(operation, error);
    }
  }

  #fail(operation: string, error: unknown): Error {
    // After any session or token failure, log in again before the next call: C_Login answers
    // CKR_USER_ALREADY_LOGGED_IN when the login survived, which costs one call.
    if (classifyDeviceError(error) === 'unavailable') this.#needsLogin = true;
    return deviceError(operation, error);
  }

  /**
   * Borrows a session, logging in again first if the token dropped the login. When the session
   * turns out to be lost (the token closed the application's sessions or logged it out), the
   * idle sessions are dropped and the operation runs once more on a fresh session, unless
   * `retry` is false (an operation that must not run twice).
   */
  async #session<T>(operation: (t: TokenSession) => Promise<T> | T, retry = true): Promise<T> {
    const { api, pkcs11 } = this.#lease;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#pool.use((session) => {
          if (this.#needsLogin) {
            loginUser(this.#lease, session, this.#pin);
            this.#needsLogin = false;
          }
          return operation({ api, pkcs11, session });
        });
      } catch (error) {
        if (!retry || attempt > 0 || !isSessionLost(error)) throw error;
        this.#pool.dropIdle();
        this.#needsLogin = true;
      }
    }
  }

  /**
   * The key objects of a version. An empty answer is checked against the login first: a token
   * that dropped the login hides private objects instead of failing, and "unknown ref" must
   * not be said about a key that is merely hidden.
   */
  #findKeys(t: TokenSession, kekName: KekName, version: number): TokenKey[] {
    const keys = this.#call('find key', () => findVersionKeys(t, kekName, version));
    if (keys.length > 0) return keys;
    const state = this.#call('read session', () => t.pkcs11.C_GetSessionInfo(t.session).state);
    if (state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS) return keys;
    loginUser(this.#lease, t.session, this.#pin);
    return this.#call('find key', () => findVersionKeys(t, kekName, version));
  }
}

function findSlot(lease: ModuleLease, tokenLabel: string): Pkcs11Handle {
  let slots: Pkcs11Handle[];
  try {
    slots = lease.pkcs11.C_GetSlotList(true);
  } catch (error) {
    throw deviceError('list slots', error);
  }
  // CK_TOKEN_INFO.label is blank-padded to 32 bytes.
  const matches = slots.filter((slot) => {
    try {
      return lease.pkcs11.C_GetTokenInfo(slot).label.trimEnd() === tokenLabel;
    } catch {
      return false;
    }
  });
  if (matches.length === 0) throw new ConfigError(`pkcs11 token not found: ${tokenLabel}`);
  if (matches.length > 1) throw new ConfigError(`pkcs11 token label is not unique: ${tokenLabel}`);
  const slot = matches[0] as Pkcs11Handle;

  let mechanisms: number[];
  try {
    mechanisms = lease.pkcs11.C_GetMechanismList(slot);
  } catch (error) {
    throw deviceError('list mechanisms', error);
  }
  if (!mechanisms.includes(lease.api.CKM_AES_GCM)) {
    throw new ConfigError(`pkcs11 token ${tokenLabel} does not offer CKM_AES_GCM`);
  }
  return slot;
}

function gcm(t: TokenSession, iv: Uint8Array, aad: Uint8Array) {
  return {
    mechanism: t.api.CKM_AES_GCM,
    parameter: {
      type: t.api.CK_PARAMS_AES_GCM,
      iv: Buffer.from(iv),
      aad: Buffer.from(aad),
      ivBits: IV_LENGTH * 8,
      tagBits: TAG_LENGTH * 8,
    },
  };
}

function checkDek(dek: unknown): asserts dek is Uint8Array {
  if (!(dek instanceof Uint8Array) || dek.length !== DEK_LENGTH) {
    throw new InputError(`"dek" expected ${DEK_LENGTH} bytes`);
  }
}

function checkKekName(kekName: unknown): asserts kekName is KekName {
  if (!isKekName(kekName)) {
    throw new InputError('"kekName" expected 1 to 128 characters of A-Z, a-z, 0-9, "_" or "-"');
  }
}

function checkBinding(binding: DekBinding): void {
  if (typeof binding !== 'object' || binding === null) {
    throw new InputError('"binding" expected an object');
  }
  assertDekId(binding.dekId, 'dekId');
  if (typeof binding.scope !== 'string') throw new InputError('"scope" expected a string');
  checkKekName(binding.kekName);
}
