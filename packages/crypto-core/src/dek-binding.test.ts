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
