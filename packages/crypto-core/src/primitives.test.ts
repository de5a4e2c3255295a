import { describe, expect, it } from 'vitest';

import { toHex } from './bytes.ts';
import { GCM_NONCE_LENGTH, randomGcmNonce } from './primitives.ts';

describe('randomGcmNonce', () => {
  it('hands out 12-byte nonces that never repeat, across several pool refills', () => {
    const seen = new Set<string>();
    // 341 nonces fit in one pool: 2,000 cross five refills.
    for (let i = 0; i < 2_000; i++) {
      const nonce = randomGcmNonce();
      expect(nonce.length).toBe(GCM_NONCE_LENGTH);
      seen.add(toHex(nonce));
    }
    expect(seen.size).toBe(2_000);
  });

  it('hands out disjoint views: a caller that overwrites its nonce changes no other', () => {
    const first = randomGcmNonce();
    for (let i = 0; i < 400; i++) {
      const next = randomGcmNonce();
      const disjoint =
        next.buffer !== first.buffer ||
        next.byteOffset >= first.byteOffset + GCM_NONCE_LENGTH ||
        next.byteOffset + GCM_NONCE_LENGTH <= first.byteOffset;
      expect(disjoint).toBe(true);
    }
  });
});
