/**
 * Project Wycheproof AES-GCM vectors (vectors/aes_gcm_test.json) against both backends.
 *
 * - 96-bit IV, 128-bit tag: every valid case seals to exactly ct || tag and opens to msg; every
 *   invalid case fails to open with DecryptionError.
 * - Any other IV size is refused before any work, with an InputError naming "iv".
 * - Tag sizes: the file holds 128-bit tags only. The backends have no tag-size parameter: they
 *   always write a 16-byte tag and read the last 16 bytes as the tag. So a shorter tag cannot be
 *   accepted: the test shows that every valid case, resealed, is exactly 16 bytes longer than its
 *   plaintext, and that the same ciphertext with its tag cut to 12 or 8 bytes fails to open.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { toHex } from '../bytes.ts';
import { DecryptionError, InputError } from '../errors.ts';
import { backend as nodeBackend } from './node.ts';
import type { CryptoBackend } from './types.ts';
import { backend as webBackend } from './web.ts';

declare const Deno: unknown;
const isDeno = typeof Deno !== 'undefined';

interface AeadCase {
  readonly tcId: number;
  readonly key: string;
  readonly iv: string;
  readonly aad: string;
  readonly msg: string;
  readonly ct: string;
  readonly tag: string;
  readonly result: 'valid' | 'invalid' | 'acceptable';
}

interface AeadGroup {
  readonly ivSize: number;
  readonly tagSize: number;
  readonly tests: readonly AeadCase[];
}

const file = JSON.parse(
  readFileSync(new URL('../../vectors/aes_gcm_test.json', import.meta.url), 'utf8'),
) as { testGroups: readonly AeadGroup[] };

const hex = (h: string): Uint8Array =>
  Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
const join = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
};

/** Resolves to the error a promise rejects with, or undefined when it fulfils. */
const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

const standard = file.testGroups.filter((g) => g.ivSize === 96 && g.tagSize === 128);
const otherIv = file.testGroups.filter((g) => g.ivSize !== 96);
const cases = standard.flatMap((g) => g.tests);
const valid = cases.filter((c) => c.result === 'valid');
const invalid = cases.filter((c) => c.result === 'invalid');

const backends: readonly (readonly [string, CryptoBackend])[] = [
  ['node', nodeBackend],
  ['webcrypto', webBackend],
];

for (const [name, backend] of backends) {
  describe.skipIf(isDeno && name === 'node')(`Wycheproof AES-GCM on the ${name} backend`, () => {
    it('covers the expected share of the file', () => {
      expect(file.testGroups.every((g) => g.tagSize === 128)).toBe(true);
      expect(valid.length).toBeGreaterThan(100);
      expect(invalid.length).toBeGreaterThan(60);
      expect(cases.some((c) => c.result === 'acceptable')).toBe(false);
      expect(otherIv.flatMap((g) => g.tests).length).toBeGreaterThan(50);
    });

    it('seals every valid 96-bit-IV case to exactly ct || tag and opens it to msg', async () => {
      const failures: number[] = [];
      for (const c of valid) {
        const key = await backend.importAesGcmKey(hex(c.key));
        const sealed = await backend.aesGcmSeal(key, hex(c.iv), hex(c.msg), hex(c.aad));
        const opened = await backend.aesGcmOpen(key, hex(c.iv), hex(c.ct + c.tag), hex(c.aad));
        if (toHex(sealed) !== c.ct + c.tag || toHex(opened) !== c.msg) failures.push(c.tcId);
      }
      expect(failures).toEqual([]);
    });

    it('refuses to open every invalid 96-bit-IV case with DecryptionError', async () => {
      const failures: number[] = [];
      for (const c of invalid) {
        const key = await backend.importAesGcmKey(hex(c.key));
        const error = await failure(
          backend.aesGcmOpen(key, hex(c.iv), hex(c.ct + c.tag), hex(c.aad)),
        );
        if (!(error instanceof DecryptionError)) failures.push(c.tcId);
      }
      expect(failures).toEqual([]);
    });

    it('refuses every other IV size with an InputError naming "iv"', async () => {
      const failures: number[] = [];
      const refusesIv = (e: unknown) => e instanceof InputError && e.message.includes('"iv"');
      for (const c of otherIv.flatMap((g) => g.tests)) {
        const key = await backend.importAesGcmKey(hex(c.key));
        const sealError = await failure(backend.aesGcmSeal(key, hex(c.iv), hex(c.msg), hex(c.aad)));
        const openError = await failure(
          backend.aesGcmOpen(key, hex(c.iv), hex(c.ct + c.tag), hex(c.aad)),
        );
        if (!refusesIv(sealError) || !refusesIv(openError)) failures.push(c.tcId);
      }
      expect(failures).toEqual([]);
    });

    it('writes 16-byte tags only and never accepts a tag cut to 12 or 8 bytes', async () => {
      const failures: number[] = [];
      for (const c of valid) {
        const key = await backend.importAesGcmKey(hex(c.key));
        const sealed = await backend.aesGcmSeal(key, hex(c.iv), hex(c.msg), hex(c.aad));
        if (sealed.length !== hex(c.msg).length + 16) failures.push(c.tcId);
        for (const tagBytes of [12, 8]) {
          const short = join(hex(c.ct), hex(c.tag).subarray(0, tagBytes));
          const error = await failure(backend.aesGcmOpen(key, hex(c.iv), short, hex(c.aad)));
          // Too short for a tag at all (an empty message): InputError; otherwise the last 16
          // bytes are taken as the tag and do not verify: DecryptionError.
          const refused = error instanceof DecryptionError || error instanceof InputError;
          if (!refused) failures.push(c.tcId);
        }
      }
      expect(failures).toEqual([]);
    });
  });
}
