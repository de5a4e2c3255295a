/** Conformance: insert, get, get-many, scope lookups, deletes, counts and migrations. */
import { newDekId } from '@rekey/crypto-core';
import { expect, it } from 'vitest';

import { essence, insertedEssence, mustGet, newDek, newDeks } from './fixtures.ts';
import type { HarnessContext } from './harness.ts';

/** Registers the record tests: insert, reads, scopes, deletes, counts, migrations, tables. */
export function recordTests(ctx: HarnessContext): void {
  it('inserts a DEK with revision 1 and reads the same record back by id', async () => {
    const dek = newDek({ wrapped: new Uint8Array([0, 255, 1, 254, 0]) });
    const inserted = await ctx.store.insert(dek);
    const read = await mustGet(ctx.store, dek.id);

    expect(essence(inserted)).toEqual(insertedEssence(dek));
    expect(essence(read)).toEqual(insertedEssence(dek));
    expect(read.createdAt).toBeInstanceOf(Date);
    expect(Number.isNaN(read.createdAt.getTime())).toBe(false);
    expect(read.createdAt.getTime()).toBe(inserted.createdAt.getTime());
    expect(read.rotatedAt).toBeNull();
    expect(read.wrapped).toBeInstanceOf(Uint8Array);
  });

  it('stores wrapped blobs of 1 and of 4096 bytes exactly', async () => {
    const small = newDek({ wrapped: new Uint8Array([7]) });
    const large = newDek({ wrapped: new Uint8Array(4096).map((_, i) => (i * 7) & 255) });
    await ctx.store.insert(small);
    await ctx.store.insert(large);

    expect([...(await mustGet(ctx.store, small.id)).wrapped]).toEqual([7]);
    expect([...(await mustGet(ctx.store, large.id)).wrapped]).toEqual([...large.wrapped]);
  });

  it('keeps scopes, KEK names and refs with non-ASCII text and trailing spaces exact', async () => {
    const dek = newDek({ scope: 'tenant é 🔑 ', kekName: 'Pii ', kekRef: 'local:Pii/v1 ' });
    await ctx.store.insert(dek);

    expect(essence(await mustGet(ctx.store, dek.id))).toEqual(insertedEssence(dek));
    expect(await ctx.store.findByScope('tenant é 🔑')).toEqual([]);
    expect(await ctx.store.countByRef('pii')).toEqual([]);
  });

  it('returns undefined for an id that was never stored', async () => {
    expect(await ctx.store.get(newDekId())).toBeUndefined();
  });

  it('refuses a second DEK with the same id with DuplicateDekError and keeps the first', async () => {
    const first = newDek();
    await ctx.store.insert(first);
    const clash = newDek({ id: first.id, scope: 'other' });

    await expect(ctx.store.insert(clash)).rejects.toMatchObject({
      code: 'DEK_DUPLICATE',
      dekId: first.id,
    });
    expect(essence(await mustGet(ctx.store, first.id))).toEqual(insertedEssence(first));
  });

  it('gets many DEKs by id, skipping ids that do not exist', async () => {
    const deks = newDeks(5);
    for (const d of deks) await ctx.store.insert(d);
    const wanted = [deks[0], deks[2], deks[4]].map((d) => d?.id as string);

    const found = await ctx.store.getMany([...wanted, newDekId()]);

    expect(found.map((r) => r.id).sort()).toEqual([...wanted].sort());
    expect(await ctx.store.getMany([])).toEqual([]);
  });

  it('finds the DEKs of a scope oldest first, optionally of one KEK name', async () => {
    const a = newDek({ scope: 's1', kekName: 'pii' });
    const b = newDek({ scope: 's1', kekName: 'billing', kekRef: 'local:billing/v1' });
    const c = newDek({ scope: 's1', kekName: 'pii' });
    const other = newDek({ scope: 's2' });
    for (const d of [a, b, c, other]) await ctx.store.insert(d);

    expect((await ctx.store.findByScope('s1')).map((r) => r.id)).toEqual([a.id, b.id, c.id]);
    expect((await ctx.store.findByScope('s1', 'pii')).map((r) => r.id)).toEqual([a.id, c.id]);
    expect(await ctx.store.findByScope('nobody')).toEqual([]);
  });

  it('deletes one DEK and reports whether it existed', async () => {
    const keep = newDek();
    const gone = newDek();
    await ctx.store.insert(keep);
    await ctx.store.insert(gone);

    expect(await ctx.store.delete(gone.id)).toBe(true);
    expect(await ctx.store.delete(gone.id)).toBe(false);
    expect(await ctx.store.get(gone.id)).toBeUndefined();
    expect(await ctx.store.get(keep.id)).toBeDefined();
  });

  it('deletes a whole scope and only that scope', async () => {
    for (const d of newDeks(4, () => ({ scope: 'shred-me' }))) await ctx.store.insert(d);
    const survivor = newDek({ scope: 'keep-me' });
    await ctx.store.insert(survivor);

    expect(await ctx.store.deleteScope('shred-me')).toBe(4);
    expect(await ctx.store.deleteScope('shred-me')).toBe(0);
    expect(await ctx.store.findByScope('shred-me')).toEqual([]);
    expect(await ctx.store.get(survivor.id)).toBeDefined();
  });

  it('counts DEKs per KEK name and ref, optionally for one KEK name', async () => {
    const plan: [string, string, number][] = [
      ['pii', 'local:pii/v1', 3],
      ['pii', 'local:pii/v2', 2],
      ['billing', 'aws-kms:arn:aws:kms:eu-west-1:1:key/b', 1],
    ];
    for (const [kekName, kekRef, n] of plan) {
      for (const d of newDeks(n, () => ({ kekName, kekRef }))) await ctx.store.insert(d);
    }
    const byKey = (a: { kekRef: string }, b: { kekRef: string }) =>
      a.kekRef < b.kekRef ? -1 : a.kekRef > b.kekRef ? 1 : 0;

    const all = [...(await ctx.store.countByRef())].sort(byKey);
    const pii = [...(await ctx.store.countByRef('pii'))].sort(byKey);

    const expected = plan.map(([kekName, kekRef, count]) => ({ kekName, kekRef, count }));
    expect(all).toEqual([...expected].sort(byKey));
    expect(pii).toEqual(expected.filter((c) => c.kekName === 'pii').sort(byKey));
    expect(await ctx.store.countByRef('nothing')).toEqual([]);
  });

  it('migrates twice more without error and without losing rows', async () => {
    const dek = newDek();
    await ctx.store.insert(dek);

    await ctx.store.migrate();
    await ctx.store.migrate();

    expect(essence(await mustGet(ctx.store, dek.id))).toEqual(insertedEssence(dek));
  });

  it('keeps stores on different tables apart', async () => {
    const other = await ctx.another();
    const dek = newDek();
    await ctx.store.insert(dek);

    expect(await other.store.get(dek.id)).toBeUndefined();
    expect(await other.store.countByRef()).toEqual([]);
    await other.store.insert(dek);
    expect(await ctx.store.deleteScope(dek.scope)).toBe(1);
    expect(await other.store.get(dek.id)).toBeDefined();
  });
}
