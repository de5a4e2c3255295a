/**
 * The two backends agree byte for byte on sizes around the node backend's 64 KiB sealing chunk
 * (one chunk, a chunk and a byte, several chunks and a remainder), with a prefix and AAD, and
 * each opens what the other sealed. On Deno only the web backend runs: a round trip with the
 * exact output length.
 */
import { describe, expect, it } from 'vitest';

import { DecryptionError } from '../errors.ts';
import { backend as nodeBackend } from './node.ts';
import type { CryptoBackend } from './types.ts';
import { backend as webBackend } from './web.ts';

declare const Deno: unknown;
const isDeno = typeof Deno !== 'undefined';

const CHUNK = 64 * 1024;
const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17, 16 * CHUNK];

/** Deterministic, non-repeating bytes (no two chunks alike, so a misplaced chunk shows). */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const rawKey = pattern(32, 7);
const iv = pattern(12, 11);
const aad = pattern(45, 13);
const prefix = pattern(53, 17);

async function seal(backend: CryptoBackend, plaintext: Uint8Array): Promise<Uint8Array> {
  const key = await backend.importAesGcmKey(rawKey);
  return backend.aesGcmSeal(key, iv, plaintext, aad, prefix);
}

async function open(backend: CryptoBackend, sealed: Uint8Array): Promise<Uint8Array> {
  const key = await backend.importAesGcmKey(rawKey);
  return backend.aesGcmOpen(key, iv, sealed.subarray(prefix.length), aad);
}

describe.skipIf(isDeno)('node and web backends around the sealing chunk', () => {
  for (const size of SIZES) {
    it(`${size} bytes: same output, and each opens the other's`, async () => {
      const plaintext = pattern(size, size + 1);
      const fromNode = await seal(nodeBackend, plaintext);
      const fromWeb = await seal(webBackend, plaintext);
      expect(fromNode.length).toBe(prefix.length + size + 16);
      expect(Buffer.from(fromNode).equals(Buffer.from(fromWeb))).toBe(true);
      expect(Buffer.from(await open(webBackend, fromNode)).equals(Buffer.from(plaintext))).toBe(
        true,
      );
      expect(Buffer.from(await open(nodeBackend, fromWeb)).equals(Buffer.from(plaintext))).toBe(
        true,
      );
    });
  }

  it('a flipped bit in the last chunk fails on both', async () => {
    const sealed = await seal(nodeBackend, pattern(3 * CHUNK + 17, 5));
    sealed[sealed.length - 20] = (sealed[sealed.length - 20] as number) ^ 1;
    await expect(open(nodeBackend, sealed)).rejects.toBeInstanceOf(DecryptionError);
    await expect(open(webBackend, sealed)).rejects.toBeInstanceOf(DecryptionError);
  });
});

describe('web backend around the node sealing chunk', () => {
  for (const size of SIZES) {
    it(`${size} bytes: round trip`, async () => {
      const plaintext = pattern(size, size + 3);
      const sealed = await seal(webBackend, plaintext);
      expect(sealed.length).toBe(prefix.length + size + 16);
      expect(Array.from(sealed.subarray(0, prefix.length))).toEqual(Array.from(prefix));
      const opened = await open(webBackend, sealed);
      expect(opened.length).toBe(size);
      expect(opened.every((b, i) => b === plaintext[i])).toBe(true);
    });
  }
});
