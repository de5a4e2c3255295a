/**
 * A bounded cache of unwrapped DEKs, so that a hot record does not cost a KMS call per read.
 *
 * NOTE: JavaScript cannot guarantee that a zeroed DEK leaves no copy behind (the garbage
 * collector may have moved it; runtimes keep their own copies of imported keys). Evicted keys are
 * zeroed and their subkeys destroyed, which narrows the window but does not close it.
 */
import type { DataKey } from './data-key.ts';
import { InputError } from './errors.ts';

/** Bounds of a {@link DekCache}. Whichever is reached first evicts a DEK. */
export interface DekCacheOptions {
  /** DEKs held at most; the least recently used goes first. Default 1,000. */
  readonly maxEntries?: number;
  /** Milliseconds a DEK stays after it was unwrapped. Default 5 minutes. */
  readonly maxAgeMs?: number;
  /** Operations served by one unwrap. Default 1,000,000. */
  readonly maxUses?: number;
  /** Clock in milliseconds, for tests; defaults to `Date.now`. */
  readonly now?: () => number;
}

interface Entry {
  readonly dataKey: DataKey;
  readonly scope: string | undefined;
  readonly loadedAt: number;
  uses: number;
  leases: number;
  retired: boolean;
}

/**
 * Unwrapped DEKs by id, bounded by entries, age and uses. A DEK is handed out with a lease: an
 * eviction while an operation holds it zeroes it as soon as that operation releases it.
 *
 * NOTE: expired DEKs are zeroed on the next cache access (or {@link DekCache.sweep}), not by a
 * timer: a library must not keep the process alive. Call `clear()` on shutdown.
 *
 * @example
 * ```ts
 * const cache = new DekCache({ maxEntries: 500, maxAgeMs: 60_000 });
 * const envelope = createEnvelope({ provider, store, kekName: 'pii', cache });
 * ```
 */
export class DekCache {
  readonly #entries = new Map<string, Entry>();
  /** Leased entries by data key, to find them on release after eviction. */
  readonly #leased = new Map<DataKey, Entry>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #maxUses: number;
  readonly #now: () => number;
  #lastSweep: number;

  /** @throws {InputError} when a bound is not a positive number. */
  constructor(options: DekCacheOptions = {}) {
    this.#maxEntries = positive(options.maxEntries ?? 1000, 'maxEntries');
    this.#maxAgeMs = positive(options.maxAgeMs ?? 5 * 60_000, 'maxAgeMs');
    this.#maxUses = positive(options.maxUses ?? 1_000_000, 'maxUses');
    this.#now = options.now ?? Date.now;
    this.#lastSweep = this.#now();
  }

  /** DEKs currently cached. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Leases the DEK with this id, counting one use, or returns `undefined` when it is not cached
   * or has expired. Pair every lease with {@link DekCache.release}.
   */
  lease(id: string): DataKey | undefined {
    this.#sweepSometimes();
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (this.#expired(entry)) {
      this.#retire(entry);
      return undefined;
    }

    // Re-insert to keep the map in least-recently-used order.
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    return this.#take(entry);
  }

  /**
   * Caches a freshly unwrapped DEK and leases it once to the caller. The cache owns the key from
   * now on and destroys it on eviction. A DEK already cached under the same id is replaced.
   */
  add(dataKey: DataKey, scope?: string): DataKey {
    this.#sweepSometimes();
    const previous = this.#entries.get(dataKey.id);
    if (previous !== undefined && previous.dataKey !== dataKey) this.#retire(previous);

    const entry: Entry = {
      dataKey,
      scope,
      loadedAt: this.#now(),
      uses: 0,
      leases: 0,
      retired: false,
    };
    this.#entries.set(dataKey.id, entry);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.values().next().value as Entry;
      this.#retire(oldest);
    }
    return this.#take(entry);
  }

  /** Returns a lease; a DEK evicted meanwhile is destroyed once no lease is left. */
  release(dataKey: DataKey): void {
    const entry = this.#leased.get(dataKey);
    if (entry === undefined) return;
    entry.leases--;
    if (entry.leases > 0) return;
    this.#leased.delete(dataKey);
    if (entry.retired) dataKey.destroy();
  }

  /** Evicts one DEK. Returns whether it was cached. */
  evict(id: string): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    this.#retire(entry);
    return true;
  }

  /** Evicts every DEK of a scope (after crypto-shredding). Returns how many went. */
  evictScope(scope: string): number {
    let count = 0;
    for (const entry of [...this.#entries.values()]) {
      if (entry.scope !== scope) continue;
      this.#retire(entry);
      count++;
    }
    return count;
  }

  /** Evicts the DEKs that outlived `maxAgeMs`. */
  sweep(): void {
    this.#lastSweep = this.#now();
    for (const entry of [...this.#entries.values()]) {
      if (this.#expired(entry)) this.#retire(entry);
    }
  }

  /** Evicts and zeroes every DEK (those in use go when their operation ends). */
  clear(): void {
    for (const entry of [...this.#entries.values()]) this.#retire(entry);
  }

  #take(entry: Entry): DataKey {
    entry.uses++;
    entry.leases++;
    this.#leased.set(entry.dataKey, entry);
    // The use that reaches the bound is served; the next one unwraps again.
    if (entry.uses >= this.#maxUses) this.#retire(entry);
    return entry.dataKey;
  }

  #retire(entry: Entry): void {
    if (this.#entries.get(entry.dataKey.id) === entry) this.#entries.delete(entry.dataKey.id);
    entry.retired = true;
    if (entry.leases === 0) entry.dataKey.destroy();
  }

  #expired(entry: Entry): boolean {
    return this.#now() - entry.loadedAt >= this.#maxAgeMs;
  }

  /** A full sweep at most four times per `maxAgeMs`, so lookups stay O(1) on average. */
  #sweepSometimes(): void {
    if (this.#now() - this.#lastSweep >= this.#maxAgeMs / 4) this.sweep();
  }
}

function positive(value: number, field: string): number {
  if (typeof value !== 'number' || !(value > 0)) {
    throw new InputError(`"${field}" expected a positive number, got ${value}`);
  }
  return value;
}
