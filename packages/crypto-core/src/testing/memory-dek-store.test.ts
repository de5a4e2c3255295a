import { describe, expect, it } from 'vitest';

import { newDekId } from '../dek-id.ts';
import type { NewDekRecord } from '../dek-store.ts';
import { DuplicateDekError, InputError } from '../errors.ts';
import { MemoryDekStore } from './memory-dek-store.ts';

function record(overrides: Partial<NewDekRecord> = {}): NewDekRecord {
  return {
    id: newDekId(),
    scope: 'tenant-1',
    kekName: 'pii',
    kekRef: 'memory:pii/v1',
    wrapped: new Uint8Array([1, 2, 3]),
    ...overrides,
  };
}

describe('MemoryDekStore', () => {
  it('stores a record with revision 1 and returns copies', async () => {
    const store = new MemoryDekStore();
    const r = record();

    const inserted = await store.insert(r);
    inserted.wrapped[0] = 99;

    const read = await store.get(r.id);
    expect(read).toMatchObject({ id: r.id, revision: 1, rotatedAt: null });
    expect(read?.wrapped).toEqual(new Uint8Array([1, 2, 3]));
    await expect(store.insert(r)).rejects.toThrow(DuplicateDekError);
  });

  it('rejects malformed ids, blobs and refs with InputError', async () => {
    const store = new MemoryDekStore();

    await expect(store.insert(record({ id: 'nope' }))).rejects.toThrow(InputError);
    await expect(store.insert(record({ wrapped: new Uint8Array(0) }))).rejects.toThrow(InputError);
    await expect(store.insert(record({ wrapped: new Uint8Array(4097) }))).rejects.toThrow(
      InputError,
    );
    await expect(store.insert(record({ kekRef: 'no-colon' }))).rejects.toThrow(InputError);
    await expect(store.insert(record({ kekRef: `a:${'x'.repeat(511)}` }))).rejects.toThrow(
      InputError,
    );
    await expect(store.scan({ kekName: 'pii', kekRefs: [], limit: 0 })).rejects.toThrow(InputError);
    await expect(store.scan({ kekName: 'pii', kekRefs: [], limit: 10_001 })).rejects.toThrow(
      InputError,
    );
  });

  it('scans pages by keyset in id order, filtered by kek name and refs', async () => {
    const store = new MemoryDekStore();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const r = record({ kekRef: i % 2 === 0 ? 'memory:pii/v1' : 'memory:pii/v2' });
      await store.insert(r);
      if (i % 2 === 0) ids.push(r.id);
    }
    await store.insert(record({ kekName: 'other', kekRef: 'memory:pii/v1' }));
    ids.sort();

    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.scan({
        kekName: 'pii',
        kekRefs: ['memory:pii/v1'],
        after,
        limit: 7,
      });
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.id));
      after = page[page.length - 1]?.id;
    }

    expect(seen).toEqual(ids);
    const bounded = await store.scan({
      kekName: 'pii',
      kekRefs: ['memory:pii/v1'],
      after: ids[2],
      until: ids[5],
      limit: 100,
    });
    expect(bounded.map((r) => r.id)).toEqual(ids.slice(3, 6));
  });

  it('swaps only rows whose revision and ref still match', async () => {
    const store = new MemoryDekStore({ now: () => new Date('2026-01-02T00:00:00Z') });
    const a = await store.insert(record());
    const b = await store.insert(record());
    const missing = newDekId();
    const wrapped = new Uint8Array([9]);

    const result = await store.compareAndSwap([
      { id: a.id, expectedRevision: 1, expectedKekRef: a.kekRef, kekRef: 'memory:pii/v2', wrapped },
      { id: b.id, expectedRevision: 2, expectedKekRef: b.kekRef, kekRef: 'memory:pii/v2', wrapped },
      { id: missing, expectedRevision: 1, expectedKekRef: a.kekRef, kekRef: 'x:y', wrapped },
    ]);

    expect(result).toEqual({ updated: [a.id], conflicted: [b.id, missing] });
    expect(await store.get(a.id)).toMatchObject({
      kekRef: 'memory:pii/v2',
      revision: 2,
      wrapped,
      rotatedAt: new Date('2026-01-02T00:00:00Z'),
    });
    expect(await store.get(b.id)).toMatchObject({ kekRef: 'memory:pii/v1', revision: 1 });
    expect(await store.countByRef('pii')).toEqual([
      { kekName: 'pii', kekRef: 'memory:pii/v1', count: 1 },
      { kekName: 'pii', kekRef: 'memory:pii/v2', count: 1 },
    ]);
  });

  it('finds a scope oldest first and deletes it as a whole', async () => {
    let t = 0;
    const store = new MemoryDekStore({ now: () => new Date(1_000_000 - t++ * 1000) });
    const first = await store.insert(record({ scope: 's' }));
    await store.insert(record({ scope: 's' }));
    await store.insert(record({ scope: 'keep' }));

    // The clock runs backwards here, so the second insert is the oldest.
    const found = await store.findByScope('s');
    expect(found.map((r) => r.id).at(-1)).toBe(first.id);
    expect(await store.deleteScope('s')).toBe(2);
    expect(await store.findByScope('s')).toEqual([]);
    expect(await store.get(first.id)).toBeUndefined();
    expect(await store.countByRef()).toEqual([
      { kekName: 'pii', kekRef: 'memory:pii/v1', count: 1 },
    ]);
  });

  it('keeps the id index right across deletes and re-inserts of the same id', async () => {
    const store = new MemoryDekStore();
    const r = record();
    await store.insert(r);
    await store.scan({ kekName: 'pii', kekRefs: ['memory:pii/v1'], limit: 10 });
    await store.delete(r.id);
    await store.insert(r);

    const page = await store.scan({ kekName: 'pii', kekRefs: ['memory:pii/v1'], limit: 10 });
    expect(page.map((x) => x.id)).toEqual([r.id]);
  });

  it('pages through 100,000 rows in id order', async () => {
    const store = new MemoryDekStore();
    for (let i = 0; i < 100_000; i++) await store.insert(record());

    let count = 0;
    let ordered = true;
    let previous = '';
    let after: string | undefined;
    for (;;) {
      const page = await store.scan({
        kekName: 'pii',
        kekRefs: ['memory:pii/v1'],
        after,
        limit: 1000,
      });
      if (page.length === 0) break;
      for (const r of page) {
        ordered &&= r.id > previous;
        previous = r.id;
      }
      count += page.length;
      after = previous;
    }
    expect(ordered).toBe(true);
    expect(count).toBe(100_000);
  });
});
