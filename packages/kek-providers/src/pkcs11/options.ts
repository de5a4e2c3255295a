/**
 * Options of the PKCS#11 provider and where its PIN comes from. The PIN is read once at open,
 * kept in a private field for re-login, and never logged or put in an error.
 */
import { readFile } from 'node:fs/promises';
import process from 'node:process';

import { ConfigError } from '@rekey/crypto-core';

/** Where the user PIN is read from: an environment variable or a file (a mounted secret). */
export type PinSource =
  /** The name of an environment variable holding the PIN, for example `REKEY_HSM_PIN`. */
  | { readonly env: string }
  /** The path of a file holding the PIN; one trailing newline is ignored. */
  | { readonly file: string };

/** How the provider calls the token. */
export type CallMode =
  /**
   * `C_Encrypt` / `C_Decrypt` run on libuv's thread pool (pkcs11js `C_EncryptAsync`), so several
   * sessions work at once and a slow `C_Encrypt` never blocks the event loop. The default.
   * NOTE: `C_EncryptInit` / `C_DecryptInit` have no asynchronous variant in pkcs11js and still
   * run on the JavaScript thread.
   */
  | 'async'
  /**
   * Every call runs on the JavaScript thread. Faster for an in-process software token such as
   * SoftHSM, where a call costs less than the hop to the thread pool; wrong for a network HSM.
   */
  | 'sync';

/** Options of `openPkcs11KekProvider`. */
export interface Pkcs11KekProviderOptions {
  /** Path of the vendor's PKCS#11 module, for example `/usr/lib/softhsm/libsofthsm2.so`. */
  readonly modulePath: string;
  /** Label of the token that holds the KEKs (`CK_TOKEN_INFO.label`, without padding). */
  readonly tokenLabel: string;
  /** Where the user PIN comes from. Never a literal, so it never sits in a config file. */
  readonly pin: PinSource;
  /** Sessions in the pool (default 4). Each concurrent wrap or unwrap holds one. */
  readonly sessions?: number;
  /** `async` (default) or `sync`; see {@link CallMode}. */
  readonly calls?: CallMode;
  /**
   * How long the provider trusts its cached primary version before looking for a newer one that
   * another process created (default 1000 ms). Rotations made through this provider are seen
   * at once.
   */
  readonly primaryCacheMs?: number;
  /** Clock for the created time of new versions; defaults to the system clock. */
  readonly now?: () => Date;
}

/** Options after validation, with defaults filled in. */
export interface ResolvedOptions {
  readonly modulePath: string;
  readonly tokenLabel: string;
  readonly sessions: number;
  readonly calls: CallMode;
  readonly primaryCacheMs: number;
  readonly now: () => Date;
}

/**
 * Validates options and fills in defaults.
 *
 * @throws {ConfigError} naming the field that is wrong.
 */
export function resolveOptions(options: Pkcs11KekProviderOptions): ResolvedOptions {
  if (typeof options?.modulePath !== 'string' || options.modulePath.length === 0) {
    throw new ConfigError('"modulePath" expected the path of a pkcs11 module');
  }
  if (typeof options.tokenLabel !== 'string' || options.tokenLabel.length === 0) {
    throw new ConfigError('"tokenLabel" expected a non-empty token label');
  }
  const sessions = options.sessions ?? 4;
  if (!Number.isInteger(sessions) || sessions < 1 || sessions > 1024) {
    throw new ConfigError('"sessions" expected an integer from 1 to 1024');
  }
  const calls = options.calls ?? 'async';
  if (calls !== 'async' && calls !== 'sync') {
    throw new ConfigError('"calls" expected "async" or "sync"');
  }
  const primaryCacheMs = options.primaryCacheMs ?? 1000;
  if (!Number.isFinite(primaryCacheMs) || primaryCacheMs < 0) {
    throw new ConfigError('"primaryCacheMs" expected a non-negative number');
  }
  return {
    modulePath: options.modulePath,
    tokenLabel: options.tokenLabel,
    sessions,
    calls,
    primaryCacheMs,
    now: options.now ?? (() => new Date()),
  };
}

/**
 * Reads the PIN from its source. Errors name the variable or file, never the PIN.
 *
 * @throws {ConfigError} when the variable is unset or empty, or the file cannot be read or is
 * empty.
 */
export async function readPin(source: PinSource): Promise<string> {
  let pin: string | undefined;
  let where: string;
  if (typeof source === 'object' && source !== null && 'env' in source) {
    where = `environment variable ${source.env}`;
    pin = process.env[source.env];
  } else if (typeof source === 'object' && source !== null && 'file' in source) {
    where = `file ${source.file}`;
    try {
      pin = await readFile(source.file, 'utf8');
    } catch (error) {
      // The cause is an fs error naming the path only; the file's content is never read.
      throw new ConfigError(`cannot read the pkcs11 pin from ${where}`, { cause: error });
    }
  } else {
    throw new ConfigError('"pin" expected { env: NAME } or { file: PATH }');
  }

  pin = pin?.replace(/\r?\n$/, '');
  if (pin === undefined || pin.length === 0) {
    throw new ConfigError(`the pkcs11 pin is missing: ${where} is unset or empty`);
  }
  return pin;
}
