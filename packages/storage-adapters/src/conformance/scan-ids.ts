/**
 * Conformance: the optional id-only scan (`scanIds`) answers exactly what `scan` answers, ids in
 * the same order, and refuses exactly what `scan` refuses. A store without it skips these tests.
 */
import type { DekScan, DekStore } from '@rekey/crypto-core';
import { newDekId } from '@rekey/crypto-core';
import { expect, it } from 'vitest';

import { insertAll, newDeks, sortedIds } from './fixtures.ts';
import type { HarnessContext } from './harness.ts';

const V1 = 'local:pii/v1';
const V2 = 'local:pii/v2';
const V3 = 'local:pii/v3';
const REFS = [V1, V2, V3];

/**
 * The slice of vitest's test context these tests use; absent under the Deno shim and Bun. The
 * tests declare it with a default value so that their `length` stays 0: Bun's runner takes a
 * declared parameter for a done callback and waits for it until the test times out.
 */
interface TestContext {
  skip?(note?: string): void;
}

type IdScan = (query: DekScan) => Promise<string[]>;

/**
 * The store's id-only scan. Without one the test is marked skipped where the runner can (vitest)
 * and returns `undefined`.
 */
function idScanOf(store: DekStore, test: TestContext | undefined): IdScan | undefined {
  if (store.scanIds === undefined) {
    test?.skip?.('the store has no scanIds');
    return undefined;
  }
  return (query) => (store.scanIds as IdScan).call(store, query);
}

/** Expects `scanIds(query)` to equal the ids of `scan(query)`; returns them. */
async function expectSameIds(store: DekStore, scanIds: IdScan, query: DekScan): Promise<string[]> {
  const records = await store.scan(query);
  const ids = await scanIds(query);
  expect(ids).toEqual(records.map((r) => r.id));
  return ids;
}

/** How a call ends: the error it fails with (what callers branch on), or `'resolved'`. */
async function outcomeOf(call: () => Promise<unknown>): Promise<object | 'resolved'> {
  try {
    await call();
    return 'resolved';
  } catch (error) {
    const e = error as { name?: unknown; code?: unknown; message?: unknown };
    return { name: e.name, code: e.code, message: e.message };
  }
}

/** Registers the id-only scan tests; `scanRows` rows are compared page by page in `scanTests`. */
export function scanIdsTests(ctx: HarnessContext, connectionless: boolean): void {
  const sameIds =
    'returns the ids of scan, in its order, for one ref, several refs and every bound';
  it(sameIds, async (test: TestContext | undefined = undefined) => {
    const scanIds = idScanOf(ctx.store, test);
    if (scanIds === undefined) return;
    const deks = newDeks(90, (i) => ({
      kekRef: REFS[i % 3] as string,
      kekName: i % 10 === 9 ? 'billing' : 'pii',
    }));
    await insertAll(ctx.harness, deks);
    const all = sortedIds(deks);
    const after = all[10] as string;
    const until = all[70] as string;
    const store = ctx.store;

    const queries: DekScan[] = [
      { kekName: 'pii', kekRefs: [V1], limit: 1000 },
      { kekName: 'pii', kekRefs: [V3, V1], limit: 1000 },
      { kekName: 'pii', kekRefs: REFS, limit: 10_000 },
      { kekName: 'pii', kekRefs: [V2], after, limit: 1000 },
      { kekName: 'pii', kekRefs: [V1, V2], until, limit: 1000 },
      { kekName: 'pii', kekRefs: [V1, V3], after, until, limit: 1000 },
      { kekName: 'pii', kekRefs: [V1], after, until, limit: 5 },
      { kekName: 'pii', kekRefs: [V2, V1], limit: 1 },
      { kekName: 'pii', kekRefs: [V2, V1], after, limit: 1 },
      { kekName: 'billing', kekRefs: REFS, limit: 7 },
      { kekName: 'pii', kekRefs: [V1, V1], limit: 1000 },
    ];
    const counts: number[] = [];
    for (const query of queries) counts.push((await expectSameIds(store, scanIds, query)).length);

    // Each query above found something, so "equal" never means "both empty".
    expect(counts.every((n) => n > 0)).toBe(true);
    expect(counts[0]).toBe(deks.filter((d) => d.kekName === 'pii' && d.kekRef === V1).length);
    expect(counts[2]).toBe(deks.filter((d) => d.kekName === 'pii').length);
    expect(counts[6]).toBe(5);
    expect(counts[7]).toBe(1);
  });

  it('returns nothing where scan returns nothing', async (test:
    | TestContext
    | undefined = undefined) => {
    const scanIds = idScanOf(ctx.store, test);
    if (scanIds === undefined) return;
    const deks = newDeks(5);
    await insertAll(ctx.harness, deks);
    const last = sortedIds(deks)[4] as string;

    const empty: DekScan[] = [
      { kekName: 'pii', kekRefs: [], limit: 10 },
      { kekName: 'pii', kekRefs: ['local:pii/v9'], limit: 10 },
      { kekName: 'billing', kekRefs: [V1], limit: 10 },
      { kekName: 'pii', kekRefs: [V1], after: last, limit: 10 },
    ];
    for (const query of empty) {
      expect(await scanIds(query)).toEqual([]);
      expect(await ctx.store.scan(query)).toEqual([]);
    }
  });

  it('pages through by id alone exactly as scan pages through', async (test:
    | TestContext
    | undefined = undefined) => {
    const scanIds = idScanOf(ctx.store, test);
    if (scanIds === undefined) return;
    const deks = newDeks(3000, (i) => ({ kekRef: REFS[i % 3] as string }));
    await insertAll(ctx.harness, deks);
    const want = sortedIds(deks.filter((d) => d.kekRef !== V2));

    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const query: DekScan = { kekName: 'pii', kekRefs: [V3, V1], limit: 333, after };
      const page = await expectSameIds(ctx.store, scanIds, query);
      seen.push(...page);
      if (page.length < query.limit) break;
      after = page.at(-1);
    }

    expect(seen).toEqual(want);
  });

  it('refuses every query scan refuses, with the same InputError', async (test:
    | TestContext
    | undefined = undefined) => {
    const scanIds = idScanOf(ctx.store, test);
    if (scanIds === undefined) return;
    await insertAll(ctx.harness, newDeks(3));
    const base: DekScan = { kekName: 'pii', kekRefs: [V1], limit: 10 };
    // Last: more than 1000 refs, which the SQL stores refuse and the memory store accepts.
    const tooManyRefs = Array.from({ length: 1001 }, (_, i) => `local:pii/v${i}`);

    const bad: unknown[] = [
      null,
      { ...base, kekName: '' },
      { ...base, kekName: 'k'.repeat(129) },
      { ...base, kekRefs: 'local:pii/v1' },
      { ...base, kekRefs: ['no-provider'] },
      { ...base, kekRefs: [V1, 'local:a\0b'] },
      { ...base, after: 'not-an-id' },
      { ...base, until: newDekId().toUpperCase() },
      { ...base, limit: 0 },
      { ...base, limit: 1.5 },
      { ...base, limit: 10_001 },
      { ...base, limit: Number.NaN },
      { ...base, kekRefs: [], limit: 0 },
      { ...base, kekRefs: tooManyRefs },
    ];
    for (const query of bad) {
      const viaScan = await outcomeOf(() => ctx.store.scan(query as DekScan));
      const viaIds = await outcomeOf(() => scanIds(query as DekScan));
      expect(viaIds).toEqual(viaScan);
    }
    for (const query of bad.slice(0, -1)) {
      const viaIds = await outcomeOf(() => scanIds(query as DekScan));
      expect(viaIds).toMatchObject({ name: 'InputError', code: 'INPUT_INVALID' });
    }
  });

  // A store without a connection (in memory) has nothing to lose: its suite skips this test.
  const closed = 'fails by id alone with a retryable StoreUnavailableError once disconnected';
  it.skipIf(connectionless)(closed, async (test: TestContext | undefined = undefined) => {
    const scanIds = idScanOf(ctx.store, test);
    if (scanIds === undefined) return;
    const { harness } = ctx;
    if (harness.disconnect === undefined) throw new Error('the harness needs disconnect()');
    await insertAll(harness, newDeks(2));
    await harness.disconnect();

    const failure = scanIds({ kekName: 'pii', kekRefs: [V1, V2], limit: 10 });
    await expect(failure).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
  });
}
