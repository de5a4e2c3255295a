/**
 * Known-answer vectors of docs/format.md, checked byte for byte on every backend, and against an
 * independent computation with raw `node:crypto` that shares no code with the implementation.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { backend as nodeBackend } from './backend/node.ts';
import type { CryptoBackend } from './backend/types.ts';
import { backend as webBackend } from './backend/web.ts';
import { toHex } from './bytes.ts';
import { DataKey } from './data-key.ts';
import { decrypt, encryptWithFixedNonces } from './envelope.ts';
import { fromText, parseEnvelope, toText } from './envelope-format.ts';

declare const Deno: unknown;
const isDeno = typeof Deno !== 'undefined';

interface Vector {
  readonly name: string;
  readonly dek: string;
  readonly id: string;
  readonly keyNonce: string;
  readonly nonce: string;
  readonly context: Record<string, string>;
  readonly plaintext: string;
  readonly envelope: string;
  readonly text: string;
}

/** The vectors of docs/format.md ("Test vectors"); keep both in step. */
const VECTORS: readonly Vector[] = [
  {
    name: 'empty plaintext, no context',
    dek: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    id: '00112233-4455-6677-8899-aabbccddeeff',
    keyNonce: '000000000000000000000001',
    nonce: '000000000000000000000002',
    context: {},
    plaintext: '',
    envelope: [
      '524b010100112233445566778899aabbccddeeff000000000000000000000001',
      '000000000000000000000002454cba4d3046fb61f5a3803c283110ac43112d89',
      '6634324b6fd6693a21bfba87a05b3c385d7104edf96d89757cfe4e29',
    ].join(''),
    text: [
      'rk:UksBAQARIjNEVWZ3iJmqu8zd7v8AAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAJFT',
      'LpNMEb7YfWjgDwoMRCsQxEtiWY0Mktv1mk6Ib-6h6BbPDhdcQTt-W2JdXz-Tik',
    ].join(''),
  },
  {
    name: 'a string with a context',
    dek: '202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f',
    id: '5d2b3c5e-8e1f-4c2a-9b6d-0e7f1a2b3c4d',
    keyNonce: 'a0a1a2a3a4a5a6a7a8a9aaab',
    nonce: 'b0b1b2b3b4b5b6b7b8b9babb',
    context: { table: 'users', column: 'email', row: '42' },
    plaintext: '616c696365406578616d706c652e636f6d',
    envelope: [
      '524b01015d2b3c5e8e1f4c2a9b6d0e7f1a2b3c4da0a1a2a3a4a5a6a7a8a9aaab',
      'b0b1b2b3b4b5b6b7b8b9babbdbc07aa7db854ceaae7e94582a90cfcc9263af96',
      '4a95443caf3243235f8e6b1fc6e72ca2b539836ac47cdf79869f10e5aff06951',
      'fd38fa1d18c2ebfc08e5e8805d',
    ].join(''),
    text: [
      'rk:UksBAV0rPF6OH0wqm20OfxorPE2goaKjpKWmp6ipqquwsbKztLW2t7i5urvbw',
      'Hqn24VM6q5-lFgqkM_MkmOvlkqVRDyvMkMjX45rH8bnLKK1OYNqxHzfeYafEOWv8',
      'GlR_Tj6HRjC6_wI5eiAXQ',
    ].join(''),
  },
  {
    name: '100 bytes, keys outside the BMP',
    dek: 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    id: 'ffffffff-ffff-4fff-bfff-ffffffffffff',
    keyNonce: 'ffffffffffffffffffffffff',
    nonce: '0123456789abcdef01234567',
    context: { '\u{1F511}': 'key', '\uFF21': 'fullwidth A', 'r\u00E9gion': 'eu-west-1', e: '' },
    plaintext: [
      '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
      '202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f',
      '404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f',
      '60616263',
    ].join(''),
    envelope: [
      '524b0101ffffffffffff4fffbfffffffffffffffffffffffffffffffffffffff',
      '0123456789abcdef012345670ef634fa133acb7a4a6026ec1a1038fc75521798',
      '5e94964f3b6035d2bae949a90e22dd3a2d2043b5b828b9c55a4d23633eb542ec',
      '5cddd7f20fef0e9a565d65da9214324b495b3c5c68d930cf02f95f2a648b4efe',
      '88f287c604ec73e97f4eb2a128c421de9ccc8e8fbfa310a7fbc6a2bd51d463e4',
      '1b1b8e109ed627d7ab49ff7da1df0c22865c534083d54eb3a80c5b776bbee146',
    ].join(''),
    text: [
      'rk:UksBAf_______0__v_________________________8BI0VniavN7wEjRWcO9',
      'jT6EzrLekpgJuwaEDj8dVIXmF6Ulk87YDXSuulJqQ4i3TotIEO1uCi5xVpNI2M-t',
      'ULsXN3X8g_vDppWXWXakhQyS0lbPFxo2TDPAvlfKmSLTv6I8ofGBOxz6X9OsqEox',
      'CHenMyOj7-jEKf7xqK9UdRj5BsbjhCe1ifXq0n_faHfDCKGXFNAg9VOs6gMW3drv',
      'uFG',
    ].join(''),
  },
];

const hex = (h: string): Uint8Array =>
  Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));

/** docs/format.md computed from scratch with node:crypto and Buffer, without rekey's code. */
function referenceEnvelope(v: Vector): string {
  const id = Buffer.from(v.id.replaceAll('-', ''), 'hex');
  const kn = Buffer.from(v.keyNonce, 'hex');
  const t = createHmac('sha512', Buffer.from(v.dek, 'hex'))
    .update(Buffer.concat([Buffer.from('rekey/v1 subkey', 'ascii'), id, kn]))
    .digest();
  const header = Buffer.concat([
    Buffer.from([0x52, 0x4b, 1, 1]),
    id,
    kn,
    Buffer.from(v.nonce, 'hex'),
    t.subarray(32, 64),
  ]);
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const pairs = Object.entries(v.context)
    .map(([k, val]) => [Buffer.from(k, 'utf8'), Buffer.from(val, 'utf8')] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
  const context = Buffer.concat([
    u32(pairs.length),
    ...pairs.flatMap(([k, val]) => [u32(k.length), k, u32(val.length), val]),
  ]);
  const cipher = createCipheriv('aes-256-gcm', t.subarray(0, 32), Buffer.from(v.nonce, 'hex'));
  cipher.setAAD(Buffer.concat([header, context]));
  const ct = Buffer.concat([cipher.update(Buffer.from(v.plaintext, 'hex')), cipher.final()]);
  return Buffer.concat([header, ct, cipher.getAuthTag()]).toString('hex');
}

describe('format vectors, independent reference', () => {
  it.each(VECTORS.map((v) => [v.name, v] as const))(
    '%s: raw node:crypto gives the same bytes',
    (_, v) => {
      expect(referenceEnvelope(v)).toBe(v.envelope);
    },
  );
});

const backends: readonly (readonly [string, CryptoBackend])[] = [
  ['node', nodeBackend],
  ['webcrypto', webBackend],
];

for (const [name, backend] of backends) {
  describe.skipIf(isDeno && name === 'node')(`format vectors on the ${name} backend`, () => {
    it.each(VECTORS.map((v) => [v.name, v] as const))(
      '%s: encrypts to the exact bytes',
      async (_, v) => {
        const dataKey = new DataKey(v.id, hex(v.dek), { backend });
        const nonces = { keyNonce: hex(v.keyNonce), nonce: hex(v.nonce) };

        const envelope = await encryptWithFixedNonces(dataKey, hex(v.plaintext), nonces, {
          context: v.context,
        });

        expect(toHex(envelope)).toBe(v.envelope);
        expect(toText(envelope)).toBe(v.text);
      },
    );

    it.each(VECTORS.map((v) => [v.name, v] as const))(
      '%s: decrypts the text form',
      async (_, v) => {
        const dataKey = new DataKey(v.id, hex(v.dek), { backend });
        const envelope = fromText(v.text);

        const plaintext = await decrypt(dataKey, envelope, { context: v.context });

        expect(toHex(plaintext)).toBe(v.plaintext);
        expect(parseEnvelope(envelope)).toMatchObject({ dekId: v.id, version: 1, suite: 1 });
      },
    );
  });
}
