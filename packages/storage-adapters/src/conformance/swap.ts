/** Conformance: compare-and-swap batches, including two writers racing for the same rows. */
import {
  type DekRecord,
  type DekSwap,
  type DekSwapResult,
  newDekId,
  utf8,
} from '@rekey/crypto-core';
import { expect, it } from 'vitest';

import { essence, insertAll, insertedEssence, mustGet, newDeks } from './fixtures.ts';
import type { HarnessContext } from './harness.ts';

function swapOf(record: DekRecord, kekRef: string, wrapped: Uint8Array): DekSwap {
  return {
    id: record.id,
    expectedRevision: record.revision,
    expectedKekRef: record.kekRef,
    kekRef,
    wrapped,
  };
}

/** Splits `items` into chunks of `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs the batches one after another and merges their results. */
async function swapAll(
  swap: (batch: readonly DekSwap[]) => Promise<DekSwapResult>,
  batches: readonly DekSwap[][],
): Promise<{ updated: Set<string>; conflicted: Set<string> }> {
  const updated = new Set<string>();
  const conflicted = new Set<string>();
  for (const batch of batches) {
    const r = await swap(batch);
    for (const id of r.updated) updated.add(id);
    for (const id of r.conflicted) conflicted.add(id);
  }
  return { updated, conflicted };
}

/** Registers the compare-and-swap tests, including the two-writer race. */
export function swapTests(ctx: HarnessContext): void {
  it('swaps rows whose revision and ref match and reports the others as conflicted', async () => {
    const deks = newDeks(5);
    for (const d of deks) await ctx.store.insert(d);
    const [a, b, c, d] = (await ctx.store.getMany(deks.map((x) => x.id))).sort((x, y) =>
      x.id < y.id ? -1 : 1,
    ) as [DekRecord, DekRecord, DekRecord, DekRecord];
    const missing = newDekId();
    const fresh = new Uint8Array([1, 2, 3, 4]);

    const result = await ctx.store.compareAndSwap([
      swapOf(a, 'local:pii/v2', fresh),
      { ...swapOf(b, 'local:pii/v2', fresh), expectedRevision: 2 },
      { ...swapOf(c, 'local:pii/v2', fresh), expectedKekRef: 'local:pii/v0' },
      { ...swapOf(d, 'local:pii/v2', fresh), id: missing },
      swapOf(d, 'aws-kms:arn:aws:kms:eu-west-1:1:key/k', fresh),
    ]);

    expect([...result.updated].sort()).toEqual([a.id, d.id].sort());
    expect([...result.conflicted].sort()).toEqual([b.id, c.id, missing].sort());
    const after = await mustGet(ctx.store, a.id);
    expect(after.kekRef).toBe('local:pii/v2');
    expect([...after.wrapped]).toEqual([1, 2, 3, 4]);
    expect(after.revision).toBe(2);
    expect(after.rotatedAt).toBeInstanceOf(Date);
    expect(after.createdAt.getTime()).toBe(a.createdAt.getTime());
    expect((await mustGet(ctx.store, d.id)).kekRef).toBe('aws-kms:arn:aws:kms:eu-west-1:1:key/k');
    const untouched = deks.find((x) => x.id === b.id);
    expect(essence(await mustGet(ctx.store, b.id))).toEqual(insertedEssence(untouched as never));
    expect(await ctx.store.get(missing)).toBeUndefined();
  });

  it('accepts an empty batch and a swap that keeps the same ref', async () => {
    const [dek] = newDeks(1);
    const record = await ctx.store.insert(dek as never);

    expect(await ctx.store.compareAndSwap([])).toEqual({ updated: [], conflicted: [] });
    const same = await ctx.store.compareAndSwap([swapOf(record, record.kekRef, utf8('again'))]);

    expect(same).toEqual({ updated: [record.id], conflicted: [] });
    expect((await mustGet(ctx.store, record.id)).revision).toBe(2);
  });

  it('keeps quotes, backslashes, commas and braces in scopes and refs exact', async () => {
    const tricky = 'local:a"b\\c,{d} e\'f';
    const deks = newDeks(3, (i) => ({ scope: `s"\\,{${i}}`, kekRef: tricky }));
    await insertAll(ctx.harness, deks);
    const page = await ctx.store.scan({ kekName: 'pii', kekRefs: [tricky, 'x:"'], limit: 10 });

    const result = await ctx.store.compareAndSwap(
      page.map((r) => swapOf(r, `${tricky}2`, utf8('n'))),
    );

    expect(page).toHaveLength(3);
    expect(result.updated).toHaveLength(3);
    for (const d of deks) {
      const r = await mustGet(ctx.store, d.id);
      expect([r.scope, r.kekRef]).toEqual([d.scope, `${tricky}2`]);
    }
    expect(await ctx.store.findByScope('s"\\,{1}')).toHaveLength(1);
  });

  it('moves swapped rows out of scans and counts of their old ref', async () => {
    const deks = newDeks(20);
    await insertAll(ctx.harness, deks);
    const page = await ctx.store.scan({ kekName: 'pii', kekRefs: ['local:pii/v1'], limit: 8 });

    await ctx.store.compareAndSwap(page.map((r) => swapOf(r, 'local:pii/v2', utf8(r.id))));

    const rest = await ctx.store.scan({ kekName: 'pii', kekRefs: ['local:pii/v1'], limit: 100 });
    expect(rest).toHaveLength(12);
    expect(rest.some((r) => page.some((p) => p.id === r.id))).toBe(false);
    const counts = await ctx.store.countByRef('pii');
    expect(counts.find((c) => c.kekRef === 'local:pii/v2')?.count).toBe(8);
    expect(counts.find((c) => c.kekRef === 'local:pii/v1')?.count).toBe(12);
  });

  it('lets exactly one of two concurrent writers win each row, losing no update', async () => {
    const deks = newDeks(300);
    await insertAll(ctx.harness, deks);
    const ids = deks.map((d) => d.id);
    const rounds = 4;
    const wins = new Map<string, string>();

    for (let round = 1; round <= rounds; round++) {
      const current = await ctx.store.getMany(ids);
      const plan = (writer: string) =>
        current.map((r) => swapOf(r, `local:pii/${writer}${round}`, utf8(`${writer}${r.id}`)));
      // The two writers walk the rows in opposite orders and batch sizes, so they collide mid-way.
      const [w1, w2] = await Promise.all([
        swapAll((b) => ctx.store.compareAndSwap(b), chunks(plan('a'), 40)),
        swapAll((b) => ctx.store.compareAndSwap(b), chunks(plan('b').reverse(), 70)),
      ]);

      for (const id of ids) {
        expect(w1.updated.has(id) !== w2.updated.has(id)).toBe(true);
        expect(w1.updated.has(id) ? w2.conflicted.has(id) : w1.conflicted.has(id)).toBe(true);
        wins.set(id, w1.updated.has(id) ? 'a' : 'b');
      }
      expect(w1.updated.size + w2.updated.size).toBe(ids.length);
    }

    for (const r of await ctx.store.getMany(ids)) {
      const winner = wins.get(r.id) as string;
      expect(r.revision).toBe(rounds + 1);
      expect(r.kekRef).toBe(`local:pii/${winner}${rounds}`);
      expect([...r.wrapped]).toEqual([...utf8(`${winner}${r.id}`)]);
    }
  });
}
