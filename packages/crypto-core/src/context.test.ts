import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { toHex } from './bytes.ts';
import { encodeContext } from './context.ts';
import { InputError } from './errors.ts';

describe('encodeContext', () => {
  it('encodes an absent or empty context as four zero bytes', () => {
    expect(toHex(encodeContext())).toBe('00000000');
    expect(toHex(encodeContext({}))).toBe('00000000');
  });

  it('writes length-prefixed pairs sorted by key bytes', () => {
    expect(toHex(encodeContext({ b: '', a: 'xy' }))).toBe(
      `00000002${'00000001' + '61'}${'00000002' + '7879'}${'00000001' + '62'}00000000`,
    );
  });

  it('gives the same bytes for any insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string(), { maxKeys: 8 }), (ctx) => {
        const reversed = Object.fromEntries(Object.entries(ctx).reverse());
        expect(encodeContext(reversed)).toEqual(encodeContext(ctx));
      }),
    );
  });

  it('sorts by UTF-8 bytes, not by UTF-16 code units', () => {
    const encoded = toHex(encodeContext({ '\u{1F511}': '', '\uFF21': '' }));
    expect(encoded.indexOf('efbca1')).toBeLessThan(encoded.indexOf('f09f9491'));
  });

  it('gives different bytes for contexts that differ only in where a boundary falls', () => {
    expect(encodeContext({ ab: 'c' })).not.toEqual(encodeContext({ a: 'bc' }));
  });

  it('refuses values that are not strings', () => {
    expect(() => encodeContext({ a: 1 } as unknown as Record<string, string>)).toThrow(InputError);
    expect(() => encodeContext({ a: null } as unknown as Record<string, string>)).toThrow(
      /"context.a" expected a string, got null/,
    );
    expect(() => encodeContext([] as unknown as Record<string, string>)).toThrow(InputError);
  });
});
