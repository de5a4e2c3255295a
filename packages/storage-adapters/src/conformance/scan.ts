/** Conformance: keyset scans by KEK name and refs, with bounds, over small and large tables. */
import type { DekRecord, DekScan, DekStore, NewDekRecord } from '@rekey/crypto-core';
import { expect, it } from 'vitest';

import { insertAll, newDeks, sortedIds } from './fixtures.ts';
import type { HarnessContext } from './harness.ts';

const V1 = 'local:pii/v1';
const V2 = 'local:pii/v2';
const V3 = 'local:pii/v3';
const REFS = [V1, V2, V3];

/** Pages through a whole scan, checking each page's order and size; returns every id seen. */
async function scanAll(store: DekStore, query: Omit<DekScan, 'after'>): Promise<string[]> {
  const seen: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page: DekRecord[] = await store.scan(after === undefined ? query : { ...query, after });
    expect(page.length).toBeLessThanOrEqual(query.limit);
    for (const r of page) {
      if (seen.length > 0) expect(r.id > (seen[seen.length - 1] as string)).toBe(true);
      seen.push(r.id);
    }
    if (page.length < query.limit) return seen;
    after = page[page.length - 1]?.id;
  }
}

/** Pages through a whole scan by id alone (`scanIds`, which the store must have). */
async function scanIdsAll(store: DekStore, query: Omit<DekScan, 'after'>): Promise<string[]> {
  const seen: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await (store.scanIds as NonNullable<DekStore['scanIds']>).call(
      store,
      after === undefined ? query : { ...query, after },
    );
    seen.push(...page);
    if (page.length < query.limit) return seen;
    after = page.at(-1);
  }
}

function expectedIds(records: readonly NewDekRecord[], name: string, refs: string[]): string[] {
  return sortedIds(records.filter((r) => r.kekName === name && refs.includes(r.kekRef)));
}

/** Registers the keyset scan tests, including the big one over `scanRows` rows. */
export function scanTests(ctx: HarnessContext, scanRows: number, slowTimeout: number): void {
  it('pages through the DEKs of a KEK name on the given refs in ascending id order', async () => {
    const deks = newDeks(60, (i) => ({
      kekRef: REFS[i % 3] as string,
      kekName: i % 10 === 9 ? 'billing' : 'pii',
    }));
    await insertAll(ctx.harness, deks);

    const ids = await scanAll(ctx.store, { kekName: 'pii', kekRefs: [V1, V3], limit: 7 });
    const one = await scanAll(ctx.store, { kekName: 'pii', kekRefs: [V2], limit: 1 });

    expect(ids).toEqual(expectedIds(deks, 'pii', [V1, V3]));
    expect(one).toEqual(expectedIds(deks, 'pii', [V2]));
    const page = await ctx.store.scan({ kekName: 'pii', kekRefs: [V1], limit: 3 });
    expect(page.every((r) => r.kekName === 'pii' && r.kekRef === V1)).toBe(true);
  });

  it('returns whole records from a scan', async () => {
    const [dek] = newDeks(1) as [NewDekRecord];
    await ctx.store.insert(dek);

    const [record] = await ctx.store.scan({ kekName: 'pii', kekRefs: [V1], limit: 5 });

    expect(record?.id).toBe(dek.id);
    expect(record?.scope).toBe(dek.scope);
    expect([...(record?.wrapped ?? [])]).toEqual([...dek.wrapped]);
    expect(record?.revision).toBe(1);
    expect(record?.createdAt).toBeInstanceOf(Date);
  });

  it('keeps to after < id <= until, exclusive below and inclusive above', async () => {
    const deks = newDeks(30);
    await insertAll(ctx.harness, deks);
    const all = sortedIds(deks);
    const after = all[4] as string;
    const until = all[20] as string;
    const base = { kekName: 'pii', kekRefs: [V1] };

    const ranged = await scanAll(ctx.store, { ...base, until, limit: 4 });
    const bounded = await ctx.store.scan({ ...base, after, until, limit: 100 });
    const tail = await ctx.store.scan({ ...base, after: all[29] as string, limit: 100 });
    const single = await ctx.store.scan({ ...base, after, until: all[5] as string, limit: 9 });

    expect(ranged).toEqual(all.slice(0, 21));
    expect(bounded.map((r) => r.id)).toEqual(all.slice(5, 21));
    expect(tail).toEqual([]);
    expect(single.map((r) => r.id)).toEqual([all[5]]);
  });

  it('finds nothing for refs of another KEK name, unknown refs or no refs', async () => {
    await insertAll(ctx.harness, newDeks(5));

    const scan = (kekName: string, kekRefs: string[]) =>
      ctx.store.scan({ kekName, kekRefs, limit: 10 });

    expect(await scan('billing', [V1])).toEqual([]);
    expect(await scan('pii', ['local:pii/v9'])).toEqual([]);
    expect(await scan('pii', [])).toEqual([]);
    expect(await scan('pii', [V1, V1])).toHaveLength(5);
  });

  it(
    `pages through ${scanRows.toLocaleString('en')} rows, each matching row once, whole or by id`,
    async () => {
      const deks = newDeks(scanRows, (i) => ({
        kekRef: i % 5 === 0 ? V3 : i % 2 === 0 ? V1 : V2,
        scope: `tenant-${i % 97}`,
      }));
      await insertAll(ctx.harness, deks);
      const want = expectedIds(deks, 'pii', [V1, V2]);

      const ids = await scanAll(ctx.store, { kekName: 'pii', kekRefs: [V2, V1], limit: 997 });

      expect(ids.length).toBe(want.length);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(want);
      if (ctx.store.scanIds !== undefined) {
        const query = { kekName: 'pii', kekRefs: [V2, V1], limit: 997 };
        expect(await scanIdsAll(ctx.store, query)).toEqual(ids);
      }
      const counts = await ctx.store.countByRef('pii');
      expect(counts.reduce((n, c) => n + c.count, 0)).toBe(scanRows);
    },
    slowTimeout,
  );
}
