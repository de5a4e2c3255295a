import { newDekId, randomBytes, toHex } from '@rekey/crypto-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  decodeWrapped,
  encodeWrapped,
  parseRef,
  versionLabel,
  versionRef,
  WRAPPED_LENGTH,
  wrapAad,
} from './wrap-format.ts';

describe('pkcs11 wrap format', () => {
  it('round-trips refs and refuses anything that is not pkcs11:<kekName>/v<n>', () => {
    expect(parseRef(versionRef('pii', 12))).toEqual({ kekName: 'pii', version: 12 });

    for (const ref of [
      'pkcs11:pii/v0',
      'pkcs11:pii/v01',
      'pkcs11:pii/v',
      'pkcs11:pii',
      'pkcs11:/v1',
      'pkcs11:a/b/v1',
      'pkcs11:a:b/v1',
      'local:pii/v1',
      ' pkcs11:pii/v1',
      'pkcs11:pii/v1\n',
      42,
      undefined,
    ]) {
      expect(parseRef(ref)).toBeUndefined();
    }
  });

  it('labels key objects so that no two versions of any names share a label', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        (a, b, m, n) => {
          fc.pre(a !== b || m !== n);
          expect(versionLabel(a, m)).not.toBe(versionLabel(b, n));
        },
      ),
    );
  });

  it('encodes additional data injectively: moving characters between fields changes it', () => {
    const dekId = newDekId();
    const a = wrapAad({ dekId, scope: 'ab', kekName: 'c' }, 'pkcs11:c/v1');
    const b = wrapAad({ dekId, scope: 'a', kekName: 'bc' }, 'pkcs11:c/v1');

    expect(toHex(a)).not.toBe(toHex(b));
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (s1, s2, k1, k2) => {
        fc.pre(s1 !== s2 || k1 !== k2);
        const x = wrapAad({ dekId, scope: s1, kekName: k1 }, 'pkcs11:k/v1');
        const y = wrapAad({ dekId, scope: s2, kekName: k2 }, 'pkcs11:k/v1');
        expect(toHex(x)).not.toBe(toHex(y));
      }),
    );
  });

  it('splits what it joins and refuses other lengths and format bytes', () => {
    const parts = { keyTag: randomBytes(8), iv: randomBytes(12), sealed: randomBytes(48) };
    const bytes = encodeWrapped(parts);

    expect(bytes.length).toBe(WRAPPED_LENGTH);
    const decoded = decodeWrapped(bytes);
    expect(decoded && [decoded.keyTag, decoded.iv, decoded.sealed].map(toHex)).toEqual(
      [parts.keyTag, parts.iv, parts.sealed].map(toHex),
    );

    const wrongFormat = bytes.slice();
    wrongFormat[0] = 2;
    for (const bad of [bytes.subarray(1), new Uint8Array(70), wrongFormat, new Uint8Array()]) {
      expect(decodeWrapped(bad)).toBeUndefined();
    }
    expect(decodeWrapped(Array.from(bytes))).toBeUndefined();
  });
});
