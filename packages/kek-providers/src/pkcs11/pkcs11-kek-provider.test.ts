import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type DekBinding, newDekId, randomBytes, toHex, type WrappedDek } from '@rekey/crypto-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { openRawSession } from '../../test-support/pkcs11-session.ts';
import {
  pinVariable,
  releaseSharedSoftHsm,
  type SoftHsmToken,
  sharedSoftHsm,
  softHsmAvailable,
} from '../../test-support/softhsm.ts';
import type { Pkcs11KekProviderOptions } from './options.ts';
import { openPkcs11KekProvider, type Pkcs11KekProvider } from './pkcs11-kek-provider.ts';
import { generateVersionKey } from './token-keys.ts';
import { WRAPPED_LENGTH } from './wrap-format.ts';

const hsm = softHsmAvailable ? sharedSoftHsm() : undefined;
const token = hsm?.createToken('rekey-provider');
// Wrong PINs get a token of their own, so no login of another test can mask them.
const pinToken = hsm?.createToken('rekey-pin');

interface Failure {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly cause?: unknown;
}

async function rejection(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Everything an error shows, its causes included. */
function errorText(error: unknown, depth = 0): string {
  if (typeof error !== 'object' || error === null || depth > 4) return String(error);
  const e = error as Failure & { stack?: string; nativeStack?: string };
  return [e.name, e.code, e.message, e.stack, e.nativeStack, errorText(e.cause, depth + 1)].join(
    ' ',
  );
}

function binding(kekName: string): DekBinding {
  return { dekId: newDekId(), scope: 'tenant-1', kekName };
}

describe.skipIf(hsm === undefined || token === undefined || pinToken === undefined)(
  'Pkcs11KekProvider against SoftHSM2',
  () => {
    const opened: Pkcs11KekProvider[] = [];

    async function open(
      overrides: Partial<Pkcs11KekProviderOptions> = {},
      on: SoftHsmToken | undefined = token,
    ): Promise<Pkcs11KekProvider> {
      if (hsm === undefined || on === undefined) throw new Error('no SoftHSM');
      const provider = await openPkcs11KekProvider({
        modulePath: hsm.modulePath,
        tokenLabel: on.label,
        pin: { env: pinVariable(on) },
        ...overrides,
      });
      opened.push(provider);
      return provider;
    }

    afterEach(async () => {
      for (const provider of opened.splice(0)) await provider.close();
    });

    afterAll(() => {
      if (token !== undefined) hsm?.deleteToken(token);
      if (pinToken !== undefined) hsm?.deleteToken(pinToken);
      releaseSharedSoftHsm();
    });

    it('keeps versions, their states and created times in the token across a restart', async () => {
      const first = await open({ now: () => new Date('2026-01-02T03:04:05.678Z') });
      await first.rotate('restart');
      const v2 = await first.rotate('restart');
      await first.rotate('restart');
      await first.disable('pkcs11:restart/v1');
      const b = binding('restart');
      const dek = randomBytes(32);
      const wrapped = await first.wrap(dek, b, v2.ref);
      const before = await first.describe('restart');
      await first.close();

      const second = await open();

      expect(await second.describe('restart')).toEqual(before);
      expect(before.map((v) => v.state)).toEqual(['disabled', 'active', 'primary']);
      expect(before[0]?.createdAt.toISOString()).toBe('2026-01-02T03:04:05.678Z');
      expect(await second.primary('restart')).toBe('pkcs11:restart/v3');
      expect(toHex(await second.unwrap(wrapped, b))).toBe(toHex(dek));
    });

    it('wraps a DEK into 69 bytes that never contain it', async () => {
      const provider = await open();
      await provider.rotate('format');
      const dek = randomBytes(32);

      const wrapped = await provider.wrap(dek, binding('format'));

      expect(wrapped.bytes.length).toBe(WRAPPED_LENGTH);
      expect(WRAPPED_LENGTH).toBe(69);
      expect(wrapped.bytes[0]).toBe(1);
      expect(toHex(wrapped.bytes)).not.toContain(toHex(dek).slice(0, 16));
    });

    it('answers a ciphertext the token rejects with one DecryptionError that has no cause', async () => {
      const provider = await open();
      await provider.rotate('tamper');
      const b = binding('tamper');
      const wrapped = await provider.wrap(randomBytes(32), b);
      const errors: Failure[] = [];

      // Ciphertext, GCM tag and IV bytes reach the token, which refuses them.
      for (const position of [9, 20, 30, 45, 60, 68]) {
        const bytes = wrapped.bytes.slice();
        bytes[position] = (bytes[position] as number) ^ 0x01;
        errors.push(await rejection(provider.unwrap({ ...wrapped, bytes }, b)));
      }

      for (const error of errors) {
        expect(error.name).toBe('DecryptionError');
        expect(error.message).toBe('decryption failed');
        expect(error.cause).toBeUndefined();
      }
    });

    it('serves hundreds of concurrent wraps and unwraps through a pool of three sessions', async () => {
      for (const calls of ['async', 'sync'] as const) {
        const provider = await open({ sessions: 3, calls });
        await provider.rotate(`many-${calls}`);
        const bindings = Array.from({ length: 300 }, () => binding(`many-${calls}`));
        const deks = bindings.map(() => randomBytes(32));

        const wrapped = await Promise.all(
          deks.map((dek, i) => provider.wrap(dek, bindings[i] as DekBinding)),
        );
        const unwrapped = await Promise.all(
          wrapped.map((w, i) => provider.unwrap(w, bindings[i] as DekBinding)),
        );

        expect(unwrapped.map(toHex)).toEqual(deks.map(toHex));
        expect(new Set(wrapped.map((w) => toHex(w.bytes.subarray(9, 21)))).size).toBe(300);
      }
    });

    it('refuses a wrong PIN with ConfigError, without the PIN in the error', async () => {
      if (pinToken === undefined) throw new Error('no SoftHSM');
      const wrong = {
        ...pinToken,
        pin: `${pinToken.pin.slice(0, -1)}${pinToken.pin.endsWith('1') ? '2' : '1'}`,
      };

      const error = await rejection(open({}, wrong));

      expect(error.name).toBe('ConfigError');
      expect(error.message).toBe('pkcs11 login failed: CKR_PIN_INCORRECT');
      expect(errorText(error)).not.toContain(wrong.pin);
      expect(errorText(error)).not.toContain(pinToken.pin);
      // The right PIN still works: the wrong one did not lock the token.
      await open({}, pinToken);
    });

    it('reads the PIN from a file, ignoring one trailing newline', async () => {
      if (token === undefined) throw new Error('no SoftHSM');
      const dir = await mkdtemp(join(tmpdir(), 'rekey-pin-'));
      try {
        const file = join(dir, 'pin');
        await writeFile(file, `${token.pin}\n`, { mode: 0o600 });

        const provider = await open({ pin: { file } });

        expect((await provider.rotate('pin-file')).ref).toBe('pkcs11:pin-file/v1');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('fails with ConfigError naming the source when the PIN is missing', async () => {
      const unset = await rejection(open({ pin: { env: 'REKEY_TEST_PIN_NEVER_SET' } }));
      const noFile = await rejection(open({ pin: { file: join(tmpdir(), 'rekey-no-such-pin') } }));

      expect(unset.name).toBe('ConfigError');
      expect(unset.message).toContain('REKEY_TEST_PIN_NEVER_SET');
      expect(noFile.name).toBe('ConfigError');
      expect(noFile.message).toContain('rekey-no-such-pin');
    });

    it('fails with ConfigError when no token has the label or the module does not load', async () => {
      const noToken = await rejection(open({ tokenLabel: 'rekey-no-such-token' }));
      const noModule = await rejection(open({ modulePath: '/nonexistent/libpkcs11.so' }));

      expect(noToken.name).toBe('ConfigError');
      expect(noToken.message).toBe('pkcs11 token not found: rekey-no-such-token');
      expect(noModule.name).toBe('ConfigError');
      expect(noModule.message).toContain('/nonexistent/libpkcs11.so');
    });

    it('lets the token refuse a version disabled by another provider, despite a warm cache', async () => {
      const a = await open();
      const b = await open();
      await a.rotate('shared-disable');
      const bind = binding('shared-disable');
      const old = await a.wrap(randomBytes(32), bind);
      await b.rotate('shared-disable');

      await b.disable(old.kekRef);

      expect((await rejection(a.unwrap(old, bind))).code).toBe('KEK_REF_DISABLED');
      expect((await rejection(a.wrap(randomBytes(32), bind, old.kekRef))).code).toBe(
        'KEK_REF_DISABLED',
      );
    });

    it('sees a rotation made by another provider once its primary cache expires', async () => {
      const a = await open({ primaryCacheMs: 0 });
      const b = await open();
      await a.rotate('shared-rotate');

      const rotated = await b.rotate('shared-rotate');

      expect(await a.primary('shared-rotate')).toBe(rotated.ref);
      expect((await a.wrap(randomBytes(32), binding('shared-rotate'))).kekRef).toBe(rotated.ref);
    });

    it('unwraps DEKs of both key objects when two processes created the same version', async () => {
      if (hsm === undefined || token === undefined) throw new Error('no SoftHSM');
      const a = await open();
      await a.rotate('race');
      await a.rotate('race');
      const bind = binding('race');
      const dek = randomBytes(32);
      const byA = await a.wrap(dek, bind);
      // Another process's v2, created "earlier": it sorts first and wraps new DEKs from now on.
      const raw = await openRawSession(hsm, token);
      try {
        generateVersionKey(raw, 'race', 2, new Date(0));
      } finally {
        raw.close();
      }

      const b = await open();
      const byB = await b.wrap(dek, bind);

      expect(byB.kekRef).toBe(byA.kekRef);
      expect(toHex(byB.bytes.subarray(1, 9))).not.toBe(toHex(byA.bytes.subarray(1, 9)));
      for (const provider of [a, b]) {
        for (const wrapped of [byA, byB]) {
          expect(toHex(await provider.unwrap(wrapped, bind))).toBe(toHex(dek));
        }
      }
      expect((await b.describe('race')).map((v) => v.ref)).toEqual([
        'pkcs11:race/v1',
        'pkcs11:race/v2',
      ]);
      await b.rotate('race');
      await b.disable('pkcs11:race/v2');
      for (const wrapped of [byA, byB]) {
        expect((await rejection(a.unwrap(wrapped, bind))).code).toBe('KEK_REF_DISABLED');
      }
    });

    it('recovers on its own when the token closes every session and drops the login', async () => {
      if (hsm === undefined || token === undefined) throw new Error('no SoftHSM');
      const provider = await open({ sessions: 2, calls: 'sync' });
      await provider.rotate('lost');
      const bind = binding('lost');
      const dek = randomBytes(32);
      const wrapped = await provider.wrap(dek, bind);
      const raw = await openRawSession(hsm, token);

      // Closing every session of the application also ends its login (PKCS#11 v2.40 5.6).
      raw.pkcs11.C_CloseAllSessions(raw.slot);
      raw.close();

      // The provider drops its dead sessions, logs in again and retries once on its own.
      expect(toHex(await provider.unwrap(wrapped, bind))).toBe(toHex(dek));
      const again = await provider.wrap(dek, bind);
      expect(toHex(await provider.unwrap(again, bind))).toBe(toHex(dek));
    });

    it('reports an unreachable module as retryable KekUnavailableError, then recovers', async () => {
      if (hsm === undefined || token === undefined) throw new Error('no SoftHSM');
      const provider = await open();
      await provider.rotate('unreachable');
      const bind = binding('unreachable');
      const dek = randomBytes(32);
      const wrapped = await provider.wrap(dek, bind);
      const raw = await openRawSession(hsm, token);
      raw.close();

      // The module forgets every session and login, as after a crash of the HSM client.
      raw.pkcs11.C_Finalize();
      const errors = [
        await rejection(provider.wrap(dek, bind)),
        await rejection(provider.unwrap(wrapped, bind)),
      ];
      raw.pkcs11.C_Initialize({ flags: raw.api.CKF_OS_LOCKING_OK });

      for (const error of errors) {
        expect(error.name).toBe('KekUnavailableError');
        expect((error as Failure & { retryable: boolean }).retryable).toBe(true);
        expect(error.message).toContain('CKR_CRYPTOKI_NOT_INITIALIZED');
      }
      expect(toHex(await provider.unwrap(wrapped, bind))).toBe(toHex(dek));
    });

    it('keeps a second provider on the same token working after the first one closes', async () => {
      const a = await open();
      const b = await open();
      await b.rotate('two-providers');

      await a.close();

      const bind = binding('two-providers');
      const dek = randomBytes(32);
      expect(toHex(await b.unwrap(await b.wrap(dek, bind), bind))).toBe(toHex(dek));
    });

    it('finishes calls made before close and refuses later ones with KekUnavailableError', async () => {
      const provider = await open({ sessions: 2 });
      await provider.rotate('closing');
      const bind = binding('closing');

      // 20 calls for 2 sessions: most are still queued when close() is called.
      const calls = Array.from({ length: 20 }, () => provider.wrap(randomBytes(32), bind));
      const closed = provider.close();
      const late = await rejection(provider.wrap(randomBytes(32), bind));
      const wrapped = await Promise.all(calls);
      await closed;

      expect(wrapped.map((w) => w.bytes.length)).toEqual(Array(20).fill(WRAPPED_LENGTH));
      expect(late.code).toBe('KEK_UNAVAILABLE');
      expect(late.name).toBe('KekUnavailableError');
      expect((await rejection(provider.unwrap(wrapped[0] as WrappedDek, bind))).code).toBe(
        'KEK_UNAVAILABLE',
      );
    });

    it('refuses malformed KEK names with InputError', async () => {
      const provider = await open();

      for (const kekName of ['', 'a/b', 'a:b', 'x'.repeat(129)]) {
        expect((await rejection(provider.rotate(kekName))).code).toBe('INPUT_INVALID');
      }
    });
  },
);
