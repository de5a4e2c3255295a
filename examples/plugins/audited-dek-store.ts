/**
 * An example DEK store plugin: a `DekStore` that writes through to any other store and reports
 * every change to an audit sink (ids, scopes, KEK names and refs; never wrapped bytes). It shows
 * the store side of the plugin contract without a database of its own; docs/plugins.md says
 * what a store over a new database must add. test/examples/plugins.test.ts runs the
 * conformance suite against it over PostgreSQL.
 */
import type {
  DekCount,
  DekRecord,
  DekScan,
  DekStore,
  DekSwap,
  DekSwapResult,
  KekName,
  NewDekRecord,
} from '@rekey/crypto-core';

/** One audited change. Carries no key material, wrapped or not. */
export type DekAuditEvent =
  | {
      readonly type: 'inserted';
      readonly id: string;
      readonly scope: string;
      readonly kekRef: string;
    }
  | { readonly type: 'deleted'; readonly id: string }
  | { readonly type: 'scope-deleted'; readonly scope: string; readonly count: number }
  | {
      readonly type: 'rewrapped';
      readonly updated: number;
      readonly conflicted: number;
      readonly kekRefs: readonly string[];
    };

/** A `DekStore` that delegates to `inner` and calls `audit` after every successful change. */
export class AuditedDekStore implements DekStore {
  readonly #inner: DekStore;
  readonly #audit: (event: DekAuditEvent) => void;
  readonly #release: (() => Promise<void>) | undefined;
  /** The wrapped store's id-only scan, passed through when it has one (the planner uses it). */
  readonly scanIds?: (query: DekScan) => Promise<string[]>;

  /** `release` frees what the plugin opened for `inner` (a pool), at {@link close}. */
  constructor(
    inner: DekStore,
    audit: (event: DekAuditEvent) => void,
    release?: () => Promise<void>,
  ) {
    this.#inner = inner;
    this.#audit = audit;
    this.#release = release;
    const scanIds = inner.scanIds?.bind(inner);
    if (scanIds !== undefined) this.scanIds = scanIds;
  }

  migrate(): Promise<void> {
    return this.#inner.migrate();
  }

  async insert(record: NewDekRecord): Promise<DekRecord> {
    const stored = await this.#inner.insert(record);
    this.#audit({ type: 'inserted', id: stored.id, scope: stored.scope, kekRef: stored.kekRef });
    return stored;
  }

  get(id: string): Promise<DekRecord | undefined> {
    return this.#inner.get(id);
  }

  getMany(ids: readonly string[]): Promise<DekRecord[]> {
    return this.#inner.getMany(ids);
  }

  findByScope(scope: string, kekName?: KekName): Promise<DekRecord[]> {
    return this.#inner.findByScope(scope, kekName);
  }

  async delete(id: string): Promise<boolean> {
    const existed = await this.#inner.delete(id);
    if (existed) this.#audit({ type: 'deleted', id });
    return existed;
  }

  async deleteScope(scope: string): Promise<number> {
    const count = await this.#inner.deleteScope(scope);
    this.#audit({ type: 'scope-deleted', scope, count });
    return count;
  }

  scan(query: DekScan): Promise<DekRecord[]> {
    return this.#inner.scan(query);
  }

  async compareAndSwap(swaps: readonly DekSwap[]): Promise<DekSwapResult> {
    const result = await this.#inner.compareAndSwap(swaps);
    const kekRefs = [...new Set(swaps.map((swap) => swap.kekRef))];
    this.#audit({
      type: 'rewrapped',
      updated: result.updated.length,
      conflicted: result.conflicted.length,
      kekRefs,
    });
    return result;
  }

  countByRef(kekName?: KekName): Promise<DekCount[]> {
    return this.#inner.countByRef(kekName);
  }

  async close(): Promise<void> {
    await this.#inner.close?.();
    await this.#release?.();
  }
}
