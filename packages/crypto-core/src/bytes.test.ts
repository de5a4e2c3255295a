import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { fromBase64Url, toBase64Url, utf8 } from './bytes.ts';
import { assertDekId } from './dek-id.ts';
import { InputError } from './errors.ts';

describe('base64url', () => {
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(fromBase64Url(toBase64Url(b))).toEqual(b);
      }),
    );
  });

  it('matches RFC 4648 test vectors', () => {
    expect(toBase64Url(utf8('foobar'))).toBe('Zm9vYmFy');
    expect(toBase64Url(utf8('fo'))).toBe('Zm8');
  });

  it('rejects characters outside the alphabet and non-canonical tails', async () => {
    expect(fromBase64Url('Zm9v+mFy')).toBeUndefined();
    expect(fromBase64Url('Zm8')).toBeDefined();
    expect(fromBase64Url('Zm9')).toBeUndefined();
    expect(fromBase64Url('Zm9=')).toBeUndefined();
    expect(fromBase64Url('Zm-')).toBeUndefined();
    expect(() => assertDekId('x')).toThrow(InputError);
    await expect(Promise.reject(new InputError('x'))).rejects.toThrow(/x/);
  });
});
