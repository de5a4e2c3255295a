/**
 * Loading a PKCS#11 module once per process. `C_Initialize`, `C_Finalize` and the login state
 * belong to the application, not to a session (PKCS#11 v2.40 sections 5.4 and 5.6): two providers
 * on the same module must share one initialization, and two on the same token one login, or the
 * first to close would finalize or log out the other. Node-only (pkcs11js is a native addon).
 */

import { ConfigError } from '@rekey/crypto-core';
import type * as Pkcs11Js from 'pkcs11js';

import { deviceError, returnValueName } from './device-errors.ts';

/** The pkcs11js module namespace: the `PKCS11` class and the `CK*` constants. */
export type Pkcs11Api = typeof Pkcs11Js;

/** A loaded and initialized PKCS#11 module. */
export type Pkcs11 = Pkcs11Js.PKCS11;

/** A PKCS#11 handle (slot, session or object) as pkcs11js passes it: a `Buffer`. */
export type Pkcs11Handle = Pkcs11Js.Handle;

/** One provider's share of a loaded module; {@link release} it exactly once. */
export interface ModuleLease {
  readonly api: Pkcs11Api;
  readonly pkcs11: Pkcs11;
  /** Logs the user in on the token of `slot`, once per process and token. */
  login(slot: Pkcs11Handle, session: Pkcs11Handle, pin: string): void;
  /** Gives up this lease's login; the last one out logs the token out. */
  logout(slot: Pkcs11Handle, session: Pkcs11Handle): void;
  /** Gives up the lease; the last one out finalizes the module. */
  release(): void;
}

interface LoadedModule {
  readonly api: Pkcs11Api;
  readonly pkcs11: Pkcs11;
  readonly ownsInitialize: boolean;
  readonly logins: Map<string, number>;
  leases: number;
}

const loaded = new Map<string, Promise<LoadedModule>>();

/**
 * Loads (or shares) the PKCS#11 module at `modulePath`.
 *
 * @throws {ConfigError} when pkcs11js is not installed or the module does not load.
 * @throws {KekUnavailableError} when `C_Initialize` fails.
 */
export async function leaseModule(modulePath: string): Promise<ModuleLease> {
  let entry = loaded.get(modulePath);
  if (entry === undefined) {
    entry = loadModule(modulePath);
    loaded.set(modulePath, entry);
    entry.catch(() => loaded.delete(modulePath));
  }
  const module = await entry;
  module.leases++;

  let released = false;
  const ownLogins = new Set<string>();
  return {
    api: module.api,
    pkcs11: module.pkcs11,
    login(slot, session, pin) {
      const key = slot.toString('hex');
      if (ownLogins.has(key)) return;
      const count = module.logins.get(key) ?? 0;
      // NOTE: a second provider on a token this process is already logged in to is not asked
      // for a correct PIN: C_Login would only answer CKR_USER_ALREADY_LOGGED_IN, and logging
      // out to check would break the first provider's sessions.
      if (count === 0) loginUser(module, session, pin);
      module.logins.set(key, count + 1);
      ownLogins.add(key);
    },
    logout(slot, session) {
      const key = slot.toString('hex');
      if (!ownLogins.delete(key)) return;
      const count = (module.logins.get(key) ?? 1) - 1;
      if (count > 0) {
        module.logins.set(key, count);
        return;
      }
      module.logins.delete(key);
      try {
        module.pkcs11.C_Logout(session);
      } catch {
        // Already logged out (the token was reset or removed): nothing left to undo.
      }
    },
    release() {
      if (released) return;
      released = true;
      module.leases--;
      if (module.leases > 0) return;
      loaded.delete(modulePath);
      if (!module.ownsInitialize) return;
      try {
        module.pkcs11.C_Finalize();
      } catch {
        // A module that cannot finalize has nothing more to release.
      }
    },
  };
}

/**
 * Logs the user in, or re-logs after the token dropped the login. `CKR_USER_ALREADY_LOGGED_IN`
 * is success: the login is shared by every session of the application.
 *
 * @throws {ConfigError} when the PIN is wrong, locked or expired.
 * @throws {KekUnavailableError} when the token cannot be reached.
 */
export function loginUser(
  module: { api: Pkcs11Api; pkcs11: Pkcs11 },
  session: Pkcs11Handle,
  pin: string,
): void {
  try {
    module.pkcs11.C_Login(session, module.api.CKU_USER, pin);
  } catch (error) {
    if (returnValueName(error) === 'CKR_USER_ALREADY_LOGGED_IN') return;
    throw deviceError('login', error);
  }
}

async function loadModule(modulePath: string): Promise<LoadedModule> {
  let api: Pkcs11Api;
  try {
    const imported = (await import('pkcs11js')) as Pkcs11Api & { default?: Pkcs11Api };
    // pkcs11js is CommonJS whose exports are spread from the addon: ESM sees them on `default`.
    api = imported.default ?? imported;
  } catch (error) {
    throw new ConfigError('pkcs11js is not installed or its native addon did not load', {
      cause: error,
    });
  }

  const pkcs11 = new api.PKCS11();
  try {
    pkcs11.load(modulePath);
  } catch (error) {
    throw new ConfigError(`cannot load pkcs11 module: ${modulePath}`, { cause: error });
  }

  let ownsInitialize = true;
  try {
    // OS locking: the asynchronous calls run on libuv's thread pool, several sessions at once.
    pkcs11.C_Initialize({ flags: api.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (returnValueName(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      throw deviceError('initialize', error);
    }
    // Another library in this process initialized the module: it finalizes it, not us.
    ownsInitialize = false;
  }
  return { api, pkcs11, ownsInitialize, logins: new Map(), leases: 0 };
}
