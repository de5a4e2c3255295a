import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { toHex } from './bytes.ts';
import { encodeDekBinding } from './dek-binding.ts';

const field = fc.string({ maxLength: 6, unit: fc.constantFrom('a', 'b', '/', ':', '\u0000', 'é') });
const input = fc.tuple(field, field, field, field, field);

describe('encodeDekBinding', () => {
  it('differs whenever any field differs, however the characters line up', () => {
    fc.assert(
      fc.property(input, input, (a, b) => {
        fc.pre(a.join('\u0001') !== b.join('\u0001'));
        const aadA = encodeDekBinding(a[0], { dekId: a[1], scope: a[2], kekName: a[3] }, a[4]);
        const aadB = encodeDekBinding(b[0], { dekId: b[1], scope: b[2], kekName: b[3] }, b[4]);
        expect(toHex(aadA)).not.toBe(toHex(aadB));
      }),
      { numRuns: 2_000 },
    );
  });
});

/** The encoding as specified, built the slow way: u32 big-endian byte count, then UTF-8. */
function reference(fields: readonly string[]): string {
  const parts = fields.map((f) => new TextEncoder().encode(f));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const p of parts) {
    view.setUint32(offset, p.length);
    out.set(p, offset + 4);
    offset += 4 + p.length;
  }
  return toHex(out);
}

describe('encodeDekBinding bytes', () => {
  it('are length-prefixed UTF-8 for ASCII and for any other text, short or long', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 80 }),
    );
    fc.assert(
      fc.property(fc.tuple(text, text, text, text, text), (f) => {
        const aad = encodeDekBinding(f[0], { dekId: f[1], scope: f[2], kekName: f[3] }, f[4]);
        expect(toHex(aad)).toBe(reference(f));
      }),
      { numRuns: 1_000 },
    );
  });

  it('match a fixed example', () => {
    const aad = encodeDekBinding('L', { dekId: 'id', scope: 'é', kekName: '' }, 'r/1');
    expect(toHex(aad)).toBe(
      '000000014c' + '000000026964' + '00000002c3a9' + '00000000' + '00000003722f31',
    );
  });
});
