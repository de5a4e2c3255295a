import { readFile } from 'node:fs/promises';

import { toHex } from '@rekey/crypto-core';
import { describe, expect, it } from 'vitest';

import { deriveKek, hkdfSha256 } from './derive-kek.ts';

interface HkdfVector {
  readonly tcId: number;
  readonly ikm: string;
  readonly salt: string;
  readonly info: string;
  readonly size: number;
  readonly okm: string;
  readonly result: 'valid' | 'invalid' | 'acceptable';
}

const file = new URL('../../vectors/hkdf_sha256_test.json', import.meta.url);
const suite = JSON.parse(await readFile(file, 'utf8')) as {
  readonly testGroups: readonly { readonly tests: readonly HkdfVector[] }[];
};
const vectors = suite.testGroups.flatMap((g) => g.tests);

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

describe('HKDF-SHA256 of the platform-secret provider', () => {
  it('passes all 86 Wycheproof HKDF-SHA256 vectors', async () => {
    expect(vectors).toHaveLength(86);
    let valid = 0;
    for (const v of vectors) {
      const derive = hkdfSha256(hex(v.ikm), hex(v.salt), hex(v.info), v.size);
      if (v.result === 'invalid') {
        await expect(derive).rejects.toThrow();
        continue;
      }
      expect(`${v.tcId}:${toHex(await derive)}`).toBe(`${v.tcId}:${v.okm}`);
      valid++;
    }
    expect(valid).toBe(83);
  });

  it('derives the KEK of a name and label exactly as the format says', async () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i);

    // Computed independently with node:crypto hkdfSync over the documented info encoding.
    expect(toHex(await deriveKek(secret, 'pii', 'v1'))).toBe(
      '1a9ea3577fd358867984722df225383fee2fda2db6228f7ee3edb75970a4b052',
    );
    expect(toHex(await deriveKek(secret, 'pii', 'v2'))).toBe(
      'ee16564f45456179e2e03ea01549b4e6fdec94ce75dca4d452647ee056e9fd22',
    );
  });

  it('derives distinct KEKs for names and labels that concatenate alike', async () => {
    const secret = new Uint8Array(32).fill(7);

    const a = await deriveKek(secret, 'ab', 'c');
    const b = await deriveKek(secret, 'a', 'bc');

    expect(toHex(a)).not.toBe(toHex(b));
  });
});
