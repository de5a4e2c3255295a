import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { backend as nodeBackend } from './backend/node.ts';
import type { AesGcmKey, CryptoBackend } from './backend/types.ts';
import { backend as webBackend } from './backend/web.ts';
import { DataKey, generateDek } from './data-key.ts';
import { newDekId } from './dek-id.ts';
import { decrypt, encrypt } from './envelope.ts';
import { fromText, parseEnvelope, toText } from './envelope-format.ts';
import { DecryptionError, FormatError, InputError } from './errors.ts';
import { cryptoBackend, randomBytes } from './primitives.ts';

declare const Deno: unknown;
const isDeno = typeof Deno !== 'undefined';

const backends: readonly (readonly [string, CryptoBackend])[] = [
  ['node', nodeBackend],
  ['webcrypto', webBackend],
];

const context = fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 }), {
  maxKeys: 5,
});

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Resolves to the error a promise rejects with, or undefined when it fulfils. */
const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('runtime backend', () => {
  it('is node:crypto under Node and WebCrypto under Deno', () => {
    expect(cryptoBackend.name).toBe(isDeno ? 'webcrypto' : 'node');
  });
});

for (const [name, backend] of backends) {
  describe.skipIf(isDeno && name === 'node')(`envelopes on the ${name} backend`, () => {
    const dataKey = generateDek({ backend });

    it('round-trips any plaintext up to 4 KiB with any context', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), context, async (plaintext, ctx) => {
          const envelope = await encrypt(dataKey, plaintext, { context: ctx });
          expect(envelope.length).toBe(plaintext.length + 92);
          expect(await decrypt(dataKey, envelope, { context: ctx })).toEqual(plaintext);
        }),
        { numRuns: 200 },
      );
    });

    it('round-trips large plaintexts up to 1 MiB', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 4096, max: 1 << 20 }), async (size) => {
          const plaintext = randomBytes(size);
          const envelope = await encrypt(dataKey, plaintext);
          // A plain loop: deep equality over a million elements is slower than the crypto.
          expect(sameBytes(await decrypt(dataKey, envelope), plaintext)).toBe(true);
        }),
        { numRuns: 5, examples: [[1 << 20]] },
      );
    }, 30_000);

    it('round-trips strings as UTF-8, through the text form too', async () => {
      const envelope = await encrypt(dataKey, 'grüße 🔑', { context: { row: '1' } });
      const again = fromText(toText(envelope));
      expect(again).toEqual(envelope);
      const plaintext = await decrypt(dataKey, again, { context: { row: '1' } });
      expect(new TextDecoder().decode(plaintext)).toBe('grüße 🔑');
    });

    it('fails every single bit flip of an envelope with DecryptionError or FormatError', async () => {
      const envelope = await encrypt(dataKey, randomBytes(40), { context: { a: 'b' } });
      const wrong: number[] = [];
      for (let bit = 0; bit < envelope.length * 8; bit++) {
        const tampered = envelope.slice();
        tampered[bit >> 3] = (tampered[bit >> 3] as number) ^ (1 << (bit & 7));
        const error = await failure(decrypt(dataKey, tampered, { context: { a: 'b' } }));
        // Bytes 0-3 (magic, version, suite) are structure; everything after is authenticated.
        if (!(error instanceof (bit < 32 ? FormatError : DecryptionError))) wrong.push(bit);
      }
      expect(wrong).toEqual([]);
    });

    it('fails a bit flip in any envelope of any plaintext and context', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 300 }),
          context,
          fc.nat(),
          async (plaintext, ctx, seed) => {
            const envelope = await encrypt(dataKey, plaintext, { context: ctx });
            const bit = seed % (envelope.length * 8);
            envelope[bit >> 3] = (envelope[bit >> 3] as number) ^ (1 << (bit & 7));
            const error = await failure(decrypt(dataKey, envelope, { context: ctx }));
            expect(error).toBeInstanceOf(bit < 32 ? FormatError : DecryptionError);
          },
        ),
        { numRuns: 200 },
      );
    });

    it('fails every truncation and extension', async () => {
      const envelope = await encrypt(dataKey, randomBytes(30));
      for (let length = 0; length < envelope.length; length++) {
        const error = await failure(decrypt(dataKey, envelope.subarray(0, length)));
        expect(error).toBeInstanceOf(length < 92 ? FormatError : DecryptionError);
      }
      for (const extra of [1, 15, 16, 17]) {
        const longer = new Uint8Array(envelope.length + extra);
        longer.set(envelope);
        expect(await failure(decrypt(dataKey, longer))).toBeInstanceOf(DecryptionError);
      }
    });

    it('fails under another context, including an added or a dropped pair', async () => {
      const envelope = await encrypt(dataKey, 'x', { context: { table: 'users', row: '1' } });
      const others: (Record<string, string> | undefined)[] = [
        { table: 'users', row: '2' },
        { table: 'users' },
        {},
        undefined,
      ];
      for (const ctx of others) {
        const error = await failure(decrypt(dataKey, envelope, { context: ctx }));
        expect(error).toBeInstanceOf(DecryptionError);
      }
      const reordered = await decrypt(dataKey, envelope, { context: { row: '1', table: 'users' } });
      expect(new TextDecoder().decode(reordered)).toBe('x');
    });

    it('fails under another DEK, even one that claims the same id', async () => {
      const envelope = await encrypt(dataKey, 'x');
      const other = generateDek({ backend });
      const impostor = new DataKey(dataKey.id, randomBytes(32), { backend });

      expect(await failure(decrypt(other, envelope))).toBeInstanceOf(DecryptionError);
      expect(await failure(decrypt(impostor, envelope))).toBeInstanceOf(DecryptionError);
    });

    it('checks the commitment before it runs AES-GCM', async () => {
      let opens = 0;
      const counting: CryptoBackend = {
        ...backend,
        aesGcmOpen: (...args) => {
          opens++;
          return backend.aesGcmOpen(...args);
        },
      };
      const key = new DataKey(newDekId(), randomBytes(32), { backend: counting });
      const envelope = await encrypt(key, 'x');
      const tampered = envelope.slice();
      tampered[50] = (tampered[50] as number) ^ 1;

      expect(await failure(decrypt(key, tampered))).toBeInstanceOf(DecryptionError);
      expect(opens).toBe(0);
      await decrypt(key, envelope);
      expect(opens).toBe(1);
    });

    it('draws a fresh key nonce after messagesPerSubkey messages', async () => {
      const key = generateDek({ backend, messagesPerSubkey: 2 });
      const envelopes = await Promise.all([1, 2, 3, 4, 5].map((n) => encrypt(key, `m${n}`)));
      const nonces = new Set(envelopes.map((e) => parseEnvelope(e).keyNonce.join(',')));

      expect(nonces.size).toBe(3);
      for (const [i, e] of envelopes.entries()) {
        expect(new TextDecoder().decode(await decrypt(key, e))).toBe(`m${i + 1}`);
      }
    });

    it('decrypts with more key nonces than the subkey cache holds', async () => {
      const writer = generateDek({ backend, messagesPerSubkey: 1 });
      const envelopes = [];
      for (let i = 0; i < 40; i++) envelopes.push(await encrypt(writer, `m${i}`));
      const reader = new DataKey(writer.id, writer.keyBytes(), { backend });

      const all = await Promise.all([...envelopes, ...envelopes].map((e) => decrypt(reader, e)));
      expect(all.map((p) => new TextDecoder().decode(p))).toEqual(
        [...envelopes, ...envelopes].map((_, i) => `m${i % 40}`),
      );
    });

    it('keeps at most 17 subkeys alive per DEK and destroys them all with it', async () => {
      const live = new Set<AesGcmKey>();
      const tracking: CryptoBackend = {
        ...backend,
        importAesGcmKey: async (raw) => {
          const key = await backend.importAesGcmKey(raw);
          live.add(key);
          const destroy = key.destroy.bind(key);
          return Object.assign(key, {
            destroy: () => {
              live.delete(key);
              destroy();
            },
          });
        },
      };
      const key = generateDek({ backend: tracking, messagesPerSubkey: 1 });
      let most = 0;
      for (let i = 0; i < 60; i++) {
        await encrypt(key, 'x');
        most = Math.max(most, live.size);
      }

      expect(most).toBe(17);
      key.destroy();
      expect(live.size).toBe(0);
    });

    it('refuses every use once destroyed, and zeroes the DEK', async () => {
      const key = generateDek({ backend });
      const bytes = key.keyBytes();
      const envelope = await encrypt(key, 'x');
      key.destroy();

      expect(key.destroyed).toBe(true);
      expect(bytes.every((b) => b === 0)).toBe(true);
      expect(() => key.keyBytes()).toThrow(InputError);
      await expect(encrypt(key, 'y')).rejects.toThrow(InputError);
      await expect(decrypt(key, envelope)).rejects.toThrow(InputError);
    });
  });
}

describe.skipIf(isDeno)('envelopes across backends', () => {
  it('decrypts on one backend what the other encrypted', async () => {
    const id = newDekId();
    const dek = randomBytes(32);
    const onNode = new DataKey(id, dek, { backend: nodeBackend });
    const onWeb = new DataKey(id, dek, { backend: webBackend });

    const fromNode = await encrypt(onNode, 'from node', { context: { a: '1' } });
    const fromWeb = await encrypt(onWeb, 'from web', { context: { a: '1' } });

    const text = (p: Uint8Array) => new TextDecoder().decode(p);
    expect(text(await decrypt(onWeb, fromNode, { context: { a: '1' } }))).toBe('from node');
    expect(text(await decrypt(onNode, fromWeb, { context: { a: '1' } }))).toBe('from web');
  });
});

describe('envelope structure', () => {
  const dataKey = generateDek();

  it('names each structural fault precisely', async () => {
    const envelope = await encrypt(dataKey, 'x');
    const patched = (offset: number, value: number) => {
      const copy = envelope.slice();
      copy[offset] = value;
      return copy;
    };

    await expect(decrypt(dataKey, envelope.subarray(0, 91))).rejects.toThrow(
      /at least 92 bytes, got 91/,
    );
    await expect(decrypt(dataKey, patched(0, 0x53))).rejects.toThrow(/bad magic/);
    await expect(decrypt(dataKey, patched(2, 2))).rejects.toThrow(/unknown format version 2/);
    await expect(decrypt(dataKey, patched(3, 9))).rejects.toThrow(/unknown suite 9/);
  });

  it('parses the header without secrets', async () => {
    const envelope = await encrypt(dataKey, 'hello');
    const header = parseEnvelope(envelope);

    expect(header).toMatchObject({ version: 1, suite: 1, dekId: dataKey.id, ciphertextLength: 5 });
    expect(header.keyNonce.length).toBe(12);
    expect(header.nonce.length).toBe(12);
    expect(header.commitment.length).toBe(32);
  });

  it('refuses text without the prefix or with bad base64url', () => {
    expect(() => fromText('UksBAQ')).toThrow(FormatError);
    expect(() => fromText('rk:UksB+Q')).toThrow(FormatError);
    expect(() => fromText('rk:UksBAQ=')).toThrow(FormatError);
    expect(() => fromText('rk:UksBAQ')).toThrow(/at least 92 bytes/);
  });

  it('uses a fresh random GCM nonce for every message', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      seen.add(parseEnvelope(await encrypt(dataKey, '')).nonce.join(','));
    }
    expect(seen.size).toBe(1000);
  });

  it('refuses a plaintext that is neither bytes nor a string', async () => {
    await expect(encrypt(dataKey, 42 as unknown as string)).rejects.toThrow(InputError);
  });
});
