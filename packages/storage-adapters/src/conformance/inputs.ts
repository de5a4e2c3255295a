/** Conformance: malformed input and lost connections give typed errors and write nothing. */
import type { DekScan, DekStore, DekSwap } from '@rekey/crypto-core';
import { newDekId } from '@rekey/crypto-core';
import { expect, it } from 'vitest';

import { essence, insertedEssence, mustGet, newDek, newDeks } from './fixtures.ts';
import type { HarnessContext } from './harness.ts';

const BAD_IDS = [
  '',
  'not-an-id',
  '0123456789ABCDEF0123456789ABCDEF',
  '01234567-89AB-CDEF-0123-456789ABCDEF',
  '01234567-89ab-cdef-0123-456789abcdef ',
  '{01234567-89ab-cdef-0123-456789abcdef}',
];
const BAD_REFS = ['', 'no-provider', ':detail', 'Local:pii/v1', 'local:', 'local:\n', 'local:a\0b'];
const BAD_LIMITS = [0, -1, 1.5, 10_001, Number.NaN, Number.POSITIVE_INFINITY];

const INPUT_INVALID = { code: 'INPUT_INVALID', name: 'InputError' };

function scanOf(overrides: Partial<DekScan>): DekScan {
  return { kekName: 'pii', kekRefs: ['local:pii/v1'], limit: 10, ...overrides };
}

async function expectNothingStored(store: DekStore): Promise<void> {
  expect(await store.countByRef()).toEqual([]);
}

/** Registers the bad-input and lost-connection tests. */
export function inputTests(ctx: HarnessContext, connectionless: boolean): void {
  it('refuses malformed ids with InputError in every operation', async () => {
    const s = ctx.store;
    for (const id of BAD_IDS) {
      await expect(s.insert(newDek({ id }))).rejects.toMatchObject(INPUT_INVALID);
      await expect(s.get(id)).rejects.toMatchObject(INPUT_INVALID);
      await expect(s.getMany([newDekId(), id])).rejects.toMatchObject(INPUT_INVALID);
      await expect(s.delete(id)).rejects.toMatchObject(INPUT_INVALID);
      await expect(s.scan(scanOf({ after: id }))).rejects.toMatchObject(INPUT_INVALID);
      await expect(s.scan(scanOf({ until: id }))).rejects.toMatchObject(INPUT_INVALID);
    }
    await expectNothingStored(s);
  });

  it('refuses empty, oversized and non-byte wrapped blobs with InputError', async () => {
    const bad = [new Uint8Array(0), new Uint8Array(4097), 'abc', [1, 2, 3], null];
    for (const wrapped of bad) {
      const dek = newDek({ wrapped: wrapped as Uint8Array });
      await expect(ctx.store.insert(dek)).rejects.toMatchObject(INPUT_INVALID);
    }
    await expectNothingStored(ctx.store);
  });

  it('refuses KEK refs that are not "<provider>:<detail>" of at most 512 chars', async () => {
    for (const kekRef of [...BAD_REFS, `local:${'x'.repeat(507)}`]) {
      await expect(ctx.store.insert(newDek({ kekRef }))).rejects.toMatchObject(INPUT_INVALID);
      const scan = ctx.store.scan(scanOf({ kekRefs: [kekRef] }));
      await expect(scan).rejects.toMatchObject(INPUT_INVALID);
    }
    await ctx.store.insert(newDek({ kekRef: `local:${'x'.repeat(506)}` }));
    expect((await ctx.store.countByRef())[0]?.count).toBe(1);
  });

  it('refuses empty KEK names and oversized or unstorable scopes with InputError', async () => {
    const bad = [
      newDek({ kekName: '' }),
      newDek({ kekName: 'k'.repeat(129) }),
      newDek({ scope: 's'.repeat(256) }),
      newDek({ scope: 'nul\0inside' }),
      newDek({ scope: 'lone \uD800 surrogate' }),
    ];
    for (const dek of bad) {
      await expect(ctx.store.insert(dek)).rejects.toMatchObject(INPUT_INVALID);
    }
    await expectNothingStored(ctx.store);
  });

  it('refuses scan limits outside 1..10,000 with InputError', async () => {
    for (const limit of BAD_LIMITS) {
      await expect(ctx.store.scan(scanOf({ limit }))).rejects.toMatchObject(INPUT_INVALID);
    }
    await expect(ctx.store.scan(scanOf({ limit: 10_000 }))).resolves.toEqual([]);
  });

  it('rejects a swap batch with one bad row before writing any row', async () => {
    const deks = newDeks(3);
    for (const d of deks) await ctx.store.insert(d);
    const good = (id: string): DekSwap => ({
      id,
      expectedRevision: 1,
      expectedKekRef: 'local:pii/v1',
      kekRef: 'local:pii/v2',
      wrapped: new Uint8Array([1, 2, 3]),
    });
    const [a, b, c] = deks.map((d) => d.id) as [string, string, string];
    const batches: DekSwap[][] = [
      [good(a), good(b), { ...good(c), wrapped: new Uint8Array(0) }],
      [good(a), good(b), { ...good(c), kekRef: 'nope' }],
      [good(a), good(b), { ...good(c), expectedRevision: 0 }],
      [good(a), good(b), { ...good(c), id: 'bad' }],
      [good(a), good(b), good(a)],
    ];

    for (const batch of batches) {
      await expect(ctx.store.compareAndSwap(batch)).rejects.toMatchObject(INPUT_INVALID);
    }
    for (const d of deks) {
      expect(essence(await mustGet(ctx.store, d.id))).toEqual(insertedEssence(d));
    }
  });

  // A store without a connection (in memory) has nothing to lose: its suite skips this test.
  const closed = 'fails with a retryable StoreUnavailableError once the connection is closed';
  it.skipIf(connectionless)(closed, async () => {
    const { harness } = ctx;
    if (harness.disconnect === undefined) throw new Error('the harness needs disconnect()');
    const dek = newDek();
    await harness.store.insert(dek);
    await harness.disconnect();

    const unavailable = { code: 'STORE_UNAVAILABLE', retryable: true };
    const swap = {
      id: dek.id,
      expectedRevision: 1,
      expectedKekRef: dek.kekRef,
      kekRef: 'local:pii/v2',
      wrapped: new Uint8Array([9]),
    };
    await expect(harness.store.get(dek.id)).rejects.toMatchObject(unavailable);
    await expect(harness.store.insert(newDek())).rejects.toMatchObject(unavailable);
    await expect(harness.store.scan(scanOf({}))).rejects.toMatchObject(unavailable);
    await expect(harness.store.compareAndSwap([swap])).rejects.toMatchObject(unavailable);
    await expect(harness.store.countByRef()).rejects.toMatchObject(unavailable);
  });
}
