/**
 * The conformance suite of the `KekProvider` port: one set of behaviours every provider shows,
 * run against each of them (memory, local, platform-secret, aws-kms, pkcs11, third-party ones).
 */
import {
  type DekBinding,
  type KekProvider,
  newDekId,
  randomBytes,
  toBase64Url,
  toHex,
} from '@rekey/crypto-core';
import { describe, expect, it } from 'vitest';

import {
  b64,
  changeLastCharacter,
  concat,
  describeError,
  newKek,
  rejection,
  withProvider,
} from './suite-helpers.ts';

/** A provider under test and how to tidy up after it. */
export interface KekProviderFixture {
  readonly provider: KekProvider;
  /** Runs after each test, after `provider.close()`: delete files, stop servers. */
  readonly cleanup?: () => Promise<void>;
}

/** Makes a fresh provider for one test. Tests use their own random KEK names. */
export type KekProviderFactory = () => Promise<KekProviderFixture>;

/** What the suite expects of the provider beyond the port's required methods. */
export interface KekProviderConformanceOptions {
  /** Whether the provider rewraps server-side (`rewrap`); checked both ways. */
  readonly rewrap: boolean;
  /** Timeout of each test in milliseconds. Default 30,000. */
  readonly timeoutMs?: number;
  /** At most this many byte positions are flipped in the tamper test. Default 256. */
  readonly maxTamperPositions?: number;
}

/**
 * Registers the `KekProvider` conformance tests for one provider with vitest (or the Deno shim
 * that speaks its language). Each test gets a fresh provider from `factory` and closes it.
 *
 * @example
 * ```ts
 * describeKekProvider('local', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), 'rekey-'));
 *   const provider = await LocalKekProvider.open({ path: join(dir, 'keyring.json') });
 *   return { provider, cleanup: () => rm(dir, { recursive: true }) };
 * }, { rewrap: false });
 * ```
 */
export function describeKekProvider(
  name: string,
  factory: KekProviderFactory,
  options: KekProviderConformanceOptions,
): void {
  const timeout = options.timeoutMs ?? 30_000;
  const maxPositions = options.maxTamperPositions ?? 256;

  const test = (title: string, body: (provider: KekProvider) => Promise<void>) =>
    it(title, () => withProvider(factory, body), timeout);

  describe(`KekProvider conformance: ${name}`, () => {
    test('wraps with the primary version and unwraps to the same DEK', async (provider) => {
      const binding = await newKek(provider);
      const dek = randomBytes(32);

      const wrapped = await provider.wrap(dek, binding);

      expect(wrapped.kekRef).toBe(await provider.primary(binding.kekName));
      expect(wrapped.kekRef.startsWith(`${provider.id}:`)).toBe(true);
      expect(toHex(await provider.unwrap(wrapped, binding))).toBe(toHex(dek));
    });

    test('never returns the DEK in clear and wraps the same DEK differently each time', async (provider) => {
      const binding = await newKek(provider);
      const dek = randomBytes(32);

      const a = await provider.wrap(dek, binding);
      const b = await provider.wrap(dek, binding);

      expect(toHex(a.bytes)).not.toContain(toHex(dek));
      expect(toHex(a.bytes)).not.toBe(toHex(b.bytes));
      expect(toHex(await provider.unwrap(b, binding))).toBe(toHex(dek));
    });

    test('refuses to unwrap under another DEK id, scope or KEK name', async (provider) => {
      const binding = await newKek(provider);
      const other = await newKek(provider);
      const wrapped = await provider.wrap(randomBytes(32), binding);

      for (const moved of [
        { ...binding, dekId: newDekId() },
        { ...binding, scope: `${binding.scope}x` },
        { ...binding, scope: '' },
        { ...binding, kekName: other.kekName },
      ]) {
        const error = await rejection(provider.unwrap(wrapped, moved));
        expect(error.code).toBe('DECRYPTION_FAILED');
        expect(error.name).toBe('DecryptionError');
      }
    });

    test('rejects every single-byte change, truncation and extension of a wrapped DEK', async (provider) => {
      const binding = await newKek(provider);
      const wrapped = await provider.wrap(randomBytes(32), binding);
      const bytes = wrapped.bytes;
      const step = Math.max(1, Math.ceil(bytes.length / maxPositions));

      const variants: Uint8Array[] = [bytes.slice(0, -1), concat(bytes, [0]), new Uint8Array()];
      for (let i = 0; i < bytes.length; i += step) {
        for (const mask of [0x01, 0x80]) {
          const copy = bytes.slice();
          copy[i] = (copy[i] as number) ^ mask;
          variants.push(copy);
        }
      }
      for (const variant of variants) {
        const error = await rejection(provider.unwrap({ ...wrapped, bytes: variant }, binding));
        expect(error.code).toBe('DECRYPTION_FAILED');
      }
    });

    test('fails with KEK_REF_UNKNOWN and names the ref when a ref was never issued', async (provider) => {
      const binding = await newKek(provider);
      const wrapped = await provider.wrap(randomBytes(32), binding);
      const refs = [
        changeLastCharacter(wrapped.kekRef),
        `${wrapped.kekRef}0`,
        `${provider.id}:no-such-kek/v1`,
        `not-${provider.id}:${binding.kekName}/v1`,
      ];

      for (const ref of refs) {
        const error = await rejection(provider.unwrap({ ...wrapped, kekRef: ref }, binding));
        expect(error.code).toBe('KEK_REF_UNKNOWN');
        expect(error.kekRef).toBe(ref);
        const wrapError = await rejection(provider.wrap(randomBytes(32), binding, ref));
        expect(wrapError.code).toBe('KEK_REF_UNKNOWN');
        expect((await rejection(provider.disable(ref))).code).toBe('KEK_REF_UNKNOWN');
      }
      const unknownName = `${binding.kekName}-unknown`;
      expect((await rejection(provider.primary(unknownName))).code).toBe('KEK_REF_UNKNOWN');
      const primaryless = { ...binding, kekName: unknownName };
      expect((await rejection(provider.wrap(randomBytes(32), primaryless))).code).toBe(
        'KEK_REF_UNKNOWN',
      );
      expect(await provider.describe(unknownName)).toEqual([]);
    });

    test('rotates to a new primary while older versions still unwrap', async (provider) => {
      const binding = await newKek(provider);
      const dek = randomBytes(32);
      const old = await provider.wrap(dek, binding);

      const rotated = await provider.rotate(binding.kekName);
      const fresh = await provider.wrap(dek, binding);

      expect(rotated.state).toBe('primary');
      expect(rotated.kekName).toBe(binding.kekName);
      expect(rotated.ref).not.toBe(old.kekRef);
      expect(await provider.primary(binding.kekName)).toBe(rotated.ref);
      expect(fresh.kekRef).toBe(rotated.ref);
      expect(toHex(await provider.unwrap(old, binding))).toBe(toHex(dek));
      expect(toHex(await provider.unwrap(fresh, binding))).toBe(toHex(dek));
    });

    test('describes every version oldest first with its state and no key material', async (provider) => {
      const binding = await newKek(provider);
      const v1 = await provider.primary(binding.kekName);
      const v2 = (await provider.rotate(binding.kekName)).ref;
      const v3 = (await provider.rotate(binding.kekName)).ref;
      await provider.disable(v1);

      const versions = await provider.describe(binding.kekName);

      expect(versions.map((v) => [v.ref, v.state])).toEqual([
        [v1, 'disabled'],
        [v2, 'active'],
        [v3, 'primary'],
      ]);
      for (const v of versions) {
        expect(Object.keys(v).sort()).toEqual(['createdAt', 'kekName', 'ref', 'state']);
        expect(v.kekName).toBe(binding.kekName);
        expect(v.createdAt).toBeInstanceOf(Date);
        expect(Number.isNaN(v.createdAt.getTime())).toBe(false);
      }
    });

    test('wraps with an explicit target version that is not the primary', async (provider) => {
      const binding = await newKek(provider);
      const v1 = await provider.primary(binding.kekName);
      await provider.rotate(binding.kekName);
      const dek = randomBytes(32);

      const wrapped = await provider.wrap(dek, binding, v1);

      expect(wrapped.kekRef).toBe(v1);
      expect(toHex(await provider.unwrap(wrapped, binding))).toBe(toHex(dek));
    });

    test('refuses a target version that belongs to another KEK name', async (provider) => {
      const binding = await newKek(provider);
      const other = await newKek(provider);
      const foreign = await provider.primary(other.kekName);

      const error = await rejection(provider.wrap(randomBytes(32), binding, foreign));

      expect(error.code).toBe('KEK_REF_UNKNOWN');
    });

    test('disables a version: it keeps its place but no longer unwraps or wraps', async (provider) => {
      const binding = await newKek(provider);
      const dek = randomBytes(32);
      const old = await provider.wrap(dek, binding);
      await provider.rotate(binding.kekName);
      const fresh = await provider.wrap(dek, binding);

      await provider.disable(old.kekRef);

      const error = await rejection(provider.unwrap(old, binding));
      expect(error.code).toBe('KEK_REF_DISABLED');
      expect(error.name).toBe('KekRefError');
      expect(error.kekRef).toBe(old.kekRef);
      const wrapError = await rejection(provider.wrap(dek, binding, old.kekRef));
      expect(wrapError.code).toBe('KEK_REF_DISABLED');
      expect(toHex(await provider.unwrap(fresh, binding))).toBe(toHex(dek));
    });

    test('refuses to disable the primary version', async (provider) => {
      const binding = await newKek(provider);
      const dek = randomBytes(32);
      const wrapped = await provider.wrap(dek, binding);

      const error = await rejection(provider.disable(wrapped.kekRef));

      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.name).toBe('ConfigError');
      expect(toHex(await provider.unwrap(wrapped, binding))).toBe(toHex(dek));
    });

    if (options.rewrap) {
      test('rewraps server-side to the target version', async (provider) => {
        const binding = await newKek(provider);
        const dek = randomBytes(32);
        const old = await provider.wrap(dek, binding);
        const target = (await provider.rotate(binding.kekName)).ref;
        const rewrap = provider.rewrap?.bind(provider);
        if (rewrap === undefined) throw new Error('the provider has no rewrap method');

        const moved = await rewrap(old, binding, target);

        expect(moved.kekRef).toBe(target);
        expect(toHex(await provider.unwrap(moved, binding))).toBe(toHex(dek));
        const wrongBinding = { ...binding, dekId: newDekId() };
        expect((await rejection(rewrap(old, wrongBinding, target))).code).toBe('DECRYPTION_FAILED');
        await provider.disable(old.kekRef);
        expect((await rejection(rewrap(old, binding, target))).code).toBe('KEK_REF_DISABLED');
      });
    } else {
      test('has no server-side rewrap, so callers unwrap and wrap', async (provider) => {
        expect(provider.rewrap).toBeUndefined();
      });
    }

    test('refuses DEKs that are not 32 bytes with InputError', async (provider) => {
      const binding = await newKek(provider);
      for (const length of [0, 16, 31, 33, 64]) {
        const error = await rejection(provider.wrap(randomBytes(length), binding));
        expect(error.code).toBe('INPUT_INVALID');
      }
    });

    test('never puts DEK bytes in error messages', async (provider) => {
      const binding = await newKek(provider);
      const dek = randomBytes(32);
      const wrapped = await provider.wrap(dek, binding);
      const v2 = (await provider.rotate(binding.kekName)).ref;
      const tampered = wrapped.bytes.slice();
      tampered[tampered.length - 1] = (tampered.at(-1) as number) ^ 1;

      const errors = [
        await rejection(provider.unwrap(wrapped, { ...binding, scope: 'elsewhere' })),
        await rejection(provider.unwrap({ ...wrapped, bytes: tampered }, binding)),
        await rejection(provider.unwrap({ ...wrapped, kekRef: changeLastCharacter(v2) }, binding)),
        await rejection(provider.wrap(dek, binding, changeLastCharacter(v2))),
        await rejection(provider.wrap(concat(dek, [0]), binding)),
        await rejection(provider.wrap(dek.subarray(1), binding)),
      ];
      await provider.disable(wrapped.kekRef);
      errors.push(await rejection(provider.unwrap(wrapped, binding)));

      const secrets = [dek, dek.subarray(1)].flatMap((d) => [toHex(d), toBase64Url(d), b64(d)]);
      for (const error of errors) {
        const text = describeError(error).toLowerCase();
        for (const secret of secrets) expect(text).not.toContain(secret.toLowerCase());
      }
    });

    test('serves concurrent wraps and unwraps', async (provider) => {
      const binding = await newKek(provider);
      const deks = Array.from({ length: 24 }, () => randomBytes(32));
      const bindings = deks.map(() => ({ ...binding, dekId: newDekId() }));

      const wrapped = await Promise.all(
        deks.map((d, i) => provider.wrap(d, bindings[i] as DekBinding)),
      );
      const unwrapped = await Promise.all(
        wrapped.map((w, i) => provider.unwrap(w, bindings[i] as DekBinding)),
      );

      expect(unwrapped.map(toHex)).toEqual(deks.map(toHex));
    });
  });
}
