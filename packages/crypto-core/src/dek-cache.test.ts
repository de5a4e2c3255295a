import { describe, expect, it } from 'vitest';

import { type DataKey, generateDek } from './data-key.ts';
import { DekCache } from './dek-cache.ts';
import { InputError } from './errors.ts';

function clock(start = 0) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number): void => {
      now += ms;
    },
  };
}

/** Adds a key and returns the cache's lease on it. */
function addReleased(cache: DekCache, scope?: string): DataKey {
  const key = cache.add(generateDek(), scope);
  cache.release(key);
  return key;
}

describe('DekCache', () => {
  it('serves a cached DEK until it is evicted', () => {
    const cache = new DekCache();
    const key = addReleased(cache);

    const leased = cache.lease(key.id);
    expect(leased).toBe(key);
    cache.release(key);
    expect(cache.evict(key.id)).toBe(true);
    expect(cache.lease(key.id)).toBeUndefined();
    expect(key.destroyed).toBe(true);
  });

  it('evicts the least recently used DEK beyond maxEntries and zeroes it', () => {
    const cache = new DekCache({ maxEntries: 2 });
    const a = addReleased(cache);
    const b = addReleased(cache);
    const aBytes = a.keyBytes();
    cache.release(cache.lease(b.id) as DataKey);

    const c = addReleased(cache);

    expect(cache.size).toBe(2);
    expect(a.destroyed).toBe(true);
    expect(aBytes.every((x) => x === 0)).toBe(true);
    expect(b.destroyed).toBe(false);
    expect(cache.lease(c.id)).toBe(c);
  });

  it('expires a DEK maxAgeMs after it was loaded, however often it is used', () => {
    const time = clock();
    const cache = new DekCache({ maxAgeMs: 1000, now: time.now });
    const key = addReleased(cache);

    time.advance(999);
    cache.release(cache.lease(key.id) as DataKey);
    time.advance(1);

    expect(cache.lease(key.id)).toBeUndefined();
    expect(key.destroyed).toBe(true);
  });

  it('zeroes expired DEKs on a later access to any other DEK', () => {
    const time = clock();
    const cache = new DekCache({ maxAgeMs: 1000, now: time.now });
    const idle = addReleased(cache);

    time.advance(1000);
    addReleased(cache);

    expect(idle.destroyed).toBe(true);
    expect(cache.size).toBe(1);
  });

  it('serves maxUses operations per unwrap, then misses', () => {
    const cache = new DekCache({ maxUses: 3 });
    const key = cache.add(generateDek());
    cache.release(key);

    for (let i = 0; i < 2; i++) cache.release(cache.lease(key.id) as DataKey);
    expect(cache.lease(key.id)).toBeUndefined();
    expect(key.destroyed).toBe(true);
  });

  it('destroys a DEK evicted while leased only when its last lease ends', () => {
    const cache = new DekCache();
    const key = cache.add(generateDek());
    cache.lease(key.id);

    cache.clear();
    expect(key.destroyed).toBe(false);
    cache.release(key);
    expect(key.destroyed).toBe(false);
    cache.release(key);
    expect(key.destroyed).toBe(true);
  });

  it('evicts every DEK of a scope', () => {
    const cache = new DekCache();
    const a = addReleased(cache, 'tenant-1');
    const b = addReleased(cache, 'tenant-1');
    const c = addReleased(cache, 'tenant-2');

    expect(cache.evictScope('tenant-1')).toBe(2);

    expect([a.destroyed, b.destroyed, c.destroyed]).toEqual([true, true, false]);
    expect(cache.size).toBe(1);
  });

  it('refuses bounds that are not positive', () => {
    expect(() => new DekCache({ maxEntries: 0 })).toThrow(InputError);
    expect(() => new DekCache({ maxAgeMs: -1 })).toThrow(InputError);
    expect(() => new DekCache({ maxUses: Number.NaN })).toThrow(InputError);
  });
});
