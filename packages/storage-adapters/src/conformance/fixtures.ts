/** Test data for the conformance suite. */
import {
  type DekRecord,
  type DekStore,
  type NewDekRecord,
  newDekId,
  randomBytes,
} from '@rekey/crypto-core';

import type { DekStoreHarness } from './harness.ts';

/** A new DEK on `local:pii/v1` with 40 random wrapped bytes, with fields overridden. */
export function newDek(overrides: Partial<NewDekRecord> = {}): NewDekRecord {
  return {
    id: newDekId(),
    scope: 'tenant-1',
    kekName: 'pii',
    kekRef: 'local:pii/v1',
    wrapped: randomBytes(40),
    ...overrides,
  };
}

/** `count` new DEKs, each overridden by `each(i)`. */
export function newDeks(
  count: number,
  each: (i: number) => Partial<NewDekRecord> = () => ({}),
): NewDekRecord[] {
  return Array.from({ length: count }, (_, i) => newDek(each(i)));
}

/** Inserts records through the harness's bulk path, or one at a time without one. */
export async function insertAll(
  harness: DekStoreHarness,
  records: readonly NewDekRecord[],
): Promise<void> {
  if (harness.bulkInsert !== undefined) {
    for (let i = 0; i < records.length; i += 10_000) {
      await harness.bulkInsert(records.slice(i, i + 10_000));
    }
    return;
  }
  for (const r of records) await harness.store.insert(r);
}

/** Ids in ascending order (lowercase hex: string order is byte order). */
export function sortedIds(records: readonly { id: string }[]): string[] {
  return records.map((r) => r.id).sort();
}

/** The stored record of `id`, failing the test when it is missing. */
export async function mustGet(store: DekStore, id: string): Promise<DekRecord> {
  const record = await store.get(id);
  if (record === undefined) throw new Error(`expected dek ${id} to exist`);
  return record;
}

/** The comparable part of a record: what was inserted plus the revision. */
export function essence(r: DekRecord): object {
  return {
    id: r.id,
    scope: r.scope,
    kekName: r.kekName,
    kekRef: r.kekRef,
    wrapped: [...r.wrapped],
    revision: r.revision,
  };
}

/** The essence of a freshly inserted record. */
export function insertedEssence(r: NewDekRecord): object {
  return {
    id: r.id,
    scope: r.scope,
    kekName: r.kekName,
    kekRef: r.kekRef,
    wrapped: [...r.wrapped],
    revision: 1,
  };
}
