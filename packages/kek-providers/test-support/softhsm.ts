/**
 * SoftHSM2 tokens for tests and benchmarks: a throw-away token directory, a `softhsm2.conf`
 * pointing at it, and `softhsm2-util --init-token` for each token. Node-only.
 *
 * SoftHSM reads `SOFTHSM2_CONF` when the module is initialized (`C_Initialize`), so
 * {@link createSoftHsm} sets it on `process.env` before any provider opens the module, and every
 * token a test needs is created before the first provider opens (SoftHSM lists the tokens of
 * its directory at initialization).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's `softhsm2` package puts the PKCS#11 module. */
export const SOFTHSM_MODULE: string =
  process.env.REKEY_SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';

/** True when `softhsm2-util` and the module are installed, so SoftHSM tests can run. */
export const softHsmAvailable: boolean = detectSoftHsm();

/** A token made by {@link SoftHsm.createToken}. */
export interface SoftHsmToken {
  /** The token label, unique per call. */
  readonly label: string;
  /** The user PIN. */
  readonly pin: string;
  /** The security officer PIN. */
  readonly soPin: string;
}

/** A SoftHSM2 token directory of its own, removed by {@link SoftHsm.destroy}. */
export interface SoftHsm {
  /** The PKCS#11 module to load. */
  readonly modulePath: string;
  /** The configuration file `SOFTHSM2_CONF` points at. */
  readonly configPath: string;
  /** Initializes a new token with a unique label (`<prefix>-<random hex>`) and the given PIN. */
  createToken(prefix: string, pin?: string): SoftHsmToken;
  /** Deletes one token. Call after every provider on it is closed. */
  deleteToken(token: SoftHsmToken): void;
  /** Deletes the token directory. Call after every provider on it is closed. */
  destroy(): void;
}

let shared: SoftHsm | undefined;
let sharedUsers = 0;

/**
 * The token directory of this process, created on first use. Test files share it because the
 * module reads `SOFTHSM2_CONF` once per initialization, and Deno runs every test file in one
 * process. Each caller gives it back with {@link releaseSharedSoftHsm}; the last one out
 * deletes it.
 */
export function sharedSoftHsm(): SoftHsm {
  shared ??= createSoftHsm();
  sharedUsers++;
  return shared;
}

/** Gives back one {@link sharedSoftHsm}; the directory goes when the last user gives it back. */
export function releaseSharedSoftHsm(): void {
  sharedUsers--;
  if (sharedUsers > 0 || shared === undefined) return;
  shared.destroy();
  shared = undefined;
}

/**
 * Sets a fresh environment variable to the token's PIN and returns its name, for the
 * provider's `pin: { env }` option.
 */
export function pinVariable(token: SoftHsmToken): string {
  const name = `REKEY_TEST_PIN_${randomHex(4).toUpperCase()}`;
  process.env[name] = token.pin;
  return name;
}

/**
 * Creates a temporary SoftHSM2 token directory and points `process.env.SOFTHSM2_CONF` at it.
 *
 * @example
 * ```ts
 * const hsm = createSoftHsm();
 * const token = hsm.createToken('rekey-test');
 * process.env.TEST_PIN = token.pin;
 * ```
 */
export function createSoftHsm(): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), 'rekey-softhsm-'));
  const tokenDir = join(dir, 'tokens');
  const configPath = join(dir, 'softhsm2.conf');
  mkdirSync(tokenDir);
  writeFileSync(
    configPath,
    [
      `directories.tokendir = ${tokenDir}`,
      'objectstore.backend = file',
      'log.level = ERROR',
      'slots.removable = false',
      '',
    ].join('\n'),
  );
  process.env.SOFTHSM2_CONF = configPath;

  const env = { ...process.env, SOFTHSM2_CONF: configPath };
  return {
    modulePath: SOFTHSM_MODULE,
    configPath,
    createToken(prefix: string, pin = randomDigits(8)): SoftHsmToken {
      const label = `${prefix}-${randomHex(4)}`;
      const soPin = randomDigits(8);
      execFileSync(
        'softhsm2-util',
        ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin],
        { env, stdio: 'pipe' },
      );
      return { label, pin, soPin };
    },
    deleteToken(token: SoftHsmToken): void {
      execFileSync('softhsm2-util', ['--delete-token', '--token', token.label], {
        env,
        stdio: 'pipe',
      });
    },
    destroy(): void {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function detectSoftHsm(): boolean {
  if (!existsSync(SOFTHSM_MODULE)) return false;
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function randomHex(bytes: number): string {
  const out = new Uint8Array(bytes);
  crypto.getRandomValues(out);
  return Array.from(out, (b) => b.toString(16).padStart(2, '0')).join('');
}

function randomDigits(length: number): string {
  const out = new Uint8Array(length);
  crypto.getRandomValues(out);
  return Array.from(out, (b) => String(b % 10)).join('');
}
