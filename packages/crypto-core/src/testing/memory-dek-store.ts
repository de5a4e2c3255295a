/**
 * An in-memory `DekStore` for tests and examples, with the full semantics of the port. Rows die
 * with the process: never use it for data you want to keep.
 */
import { assertDekId } from '../dek-id.ts';
import type {
  DekCount,
  DekRecord,
  DekScan,
  DekStore,
  DekSwap,
  DekSwapResult,
  NewDekRecord,
} from '../dek-store.ts';
import { DuplicateDekError, InputError } from '../errors.ts';
import type { KekName } from '../kek-provider.ts';

const MAX_WRAPPED = 4096;
const MAX_REF = 512;
const MAX_LIMIT = 10_000;
const MAX_SCOPE = 255;
const MAX_KEK_NAME = 128;
const KEK_REF = /^[a-z0-9-]+:.+$/;
// What SQL stores cannot keep exactly (PostgreSQL text refuses NUL; UTF-8 has no lone
// surrogates), refused here too so the memory store behaves like the real ones.
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Options of {@link MemoryDekStore}. */
export interface MemoryDekStoreOptions {
  /** Clock for `createdAt` and `rotatedAt`; defaults to the system clock. */
  readonly now?: () => Date;
}

interface Row {
  readonly id: string;
  readonly scope: string;
  readonly kekName: KekName;
  kekRef: string;
  wrapped: Uint8Array;
  revision: number;
  readonly createdAt: Date;
  rotatedAt: Date | null;
  /** Insertion order, to keep "oldest first" stable when two rows share a timestamp. */
  readonly seq: number;
}

/**
 * A `DekStore` held in a `Map`, with a sorted id index for keyset scans. For tests and examples
 * only. Every record it returns is a fresh copy: mutating one never changes the store.
 *
 * @example
 * ```ts
 * const store = new MemoryDekStore();
 * await store.migrate();
 * ```
 */
export class MemoryDekStore implements DekStore {
  readonly #rows = new Map<string, Row>();
  readonly #byScope = new Map<string, Set<string>>();
  readonly #now: () => Date;
  /** Ids in ascending order, valid only for the rows present at the last rebuild. */
  #sorted: string[] = [];
  /** Ids inserted since the last rebuild, not yet in `#sorted`. */
  #pending: string[] = [];
  /** Whether rows were deleted since the last rebuild (their ids still sit in `#sorted`). */
  #deleted = false;
  #seq = 0;

  constructor(options: MemoryDekStoreOptions = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  /** Nothing to create: the store is ready when constructed. */
  async migrate(): Promise<void> {}

  /**
   * Stores a new DEK with revision 1.
   *
   * @throws {InputError} for a malformed id, scope, KEK name, ref or wrapped blob.
   * @throws {DuplicateDekError} when the id is taken.
   */
  async insert(record: NewDekRecord): Promise<DekRecord> {
    assertDekId(record?.id);
    checkText(record.scope, 'scope');
    checkText(record.kekName, 'kekName', true);
    checkRef(record.kekRef, 'kekRef');
    checkWrapped(record.wrapped);
    if (this.#rows.has(record.id)) throw new DuplicateDekError(record.id);

    const row: Row = {
      id: record.id,
      scope: record.scope,
      kekName: record.kekName,
      kekRef: record.kekRef,
      wrapped: record.wrapped.slice(),
      revision: 1,
      createdAt: this.#now(),
      rotatedAt: null,
      seq: this.#seq++,
    };
    this.#rows.set(row.id, row);
    this.#pending.push(row.id);
    const scoped = this.#byScope.get(row.scope);
    if (scoped === undefined) this.#byScope.set(row.scope, new Set([row.id]));
    else scoped.add(row.id);
    return toRecord(row);
  }

  /** @throws {InputError} for a malformed id. */
  async get(id: string): Promise<DekRecord | undefined> {
    assertDekId(id);
    const row = this.#rows.get(id);
    return row === undefined ? undefined : toRecord(row);
  }

  /** @throws {InputError} for a malformed id. */
  async getMany(ids: readonly string[]): Promise<DekRecord[]> {
    for (const id of ids) assertDekId(id);
    const out: DekRecord[] = [];
    for (const id of new Set(ids)) {
      const row = this.#rows.get(id);
      if (row !== undefined) out.push(toRecord(row));
    }
    return out;
  }

  async findByScope(scope: string, kekName?: KekName): Promise<DekRecord[]> {
    checkText(scope, 'scope');
    const rows: Row[] = [];
    for (const id of this.#byScope.get(scope) ?? []) {
      const row = this.#rows.get(id) as Row;
      if (kekName === undefined || row.kekName === kekName) rows.push(row);
    }
    rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.seq - b.seq);
    return rows.map(toRecord);
  }

  /** @throws {InputError} for a malformed id. */
  async delete(id: string): Promise<boolean> {
    assertDekId(id);
    return this.#remove(id);
  }

  async deleteScope(scope: string): Promise<number> {
    checkText(scope, 'scope');
    const ids = [...(this.#byScope.get(scope) ?? [])];
    for (const id of ids) this.#remove(id);
    return ids.length;
  }

  /**
   * One page of DEKs on the given refs with `after < id <= until`, ascending by id.
   *
   * @throws {InputError} for a limit outside 1..10,000 or a malformed bound or ref.
   */
  async scan(query: DekScan): Promise<DekRecord[]> {
    return this.#scanRows(query).map(toRecord);
  }

  /**
   * The ids of the page `scan(query)` returns, in the same order.
   *
   * @throws {InputError} for a limit outside 1..10,000 or a malformed bound or ref.
   */
  async scanIds(query: DekScan): Promise<string[]> {
    return this.#scanRows(query).map((row) => row.id);
  }

  /**
   * Rewrites the rows whose revision and ref still match, bumping revision and `rotatedAt`.
   * Validates the whole batch first, so a bad entry changes nothing.
   *
   * @throws {InputError} for a malformed entry or an id given twice.
   */
  async compareAndSwap(swaps: readonly DekSwap[]): Promise<DekSwapResult> {
    const seen = new Set<string>();
    for (const swap of swaps) {
      assertDekId(swap?.id);
      if (seen.has(swap.id)) throw new InputError(`"id" given twice in one batch: ${swap.id}`);
      seen.add(swap.id);
      if (!Number.isInteger(swap.expectedRevision) || swap.expectedRevision < 1) {
        throw new InputError('"expectedRevision" expected a positive integer');
      }
      checkRef(swap.expectedKekRef, 'expectedKekRef');
      checkRef(swap.kekRef, 'kekRef');
      checkWrapped(swap.wrapped);
    }

    const updated: string[] = [];
    const conflicted: string[] = [];
    const now = this.#now();
    for (const swap of swaps) {
      const row = this.#rows.get(swap.id);
      if (
        row === undefined ||
        row.revision !== swap.expectedRevision ||
        row.kekRef !== swap.expectedKekRef
      ) {
        conflicted.push(swap.id);
        continue;
      }
      row.kekRef = swap.kekRef;
      row.wrapped = swap.wrapped.slice();
      row.revision += 1;
      row.rotatedAt = new Date(now);
      updated.push(swap.id);
    }
    return { updated, conflicted };
  }

  /** DEK counts per KEK name and ref, sorted by name then ref. */
  async countByRef(kekName?: KekName): Promise<DekCount[]> {
    const counts = new Map<string, DekCount>();
    for (const row of this.#rows.values()) {
      if (kekName !== undefined && row.kekName !== kekName) continue;
      const key = `${row.kekName}\u0000${row.kekRef}`;
      const count = counts.get(key)?.count ?? 0;
      counts.set(key, { kekName: row.kekName, kekRef: row.kekRef, count: count + 1 });
    }
    return [...counts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, count]) => count);
  }

  /** Nothing to release. */
  async close(): Promise<void> {}

  /** The rows of one scan page, after checking the whole query. */
  #scanRows(query: DekScan): Row[] {
    const { kekName, kekRefs, after, until, limit } = query ?? ({} as DekScan);
    checkText(kekName, 'kekName', true);
    if (!Array.isArray(kekRefs)) throw new InputError('"kekRefs" expected an array');
    for (const ref of kekRefs) checkRef(ref, 'kekRefs');
    if (after !== undefined) assertDekId(after, 'after');
    if (until !== undefined) assertDekId(until, 'until');
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new InputError(`"limit" expected an integer from 1 to ${MAX_LIMIT}, got ${limit}`);
    }

    if (kekRefs.length === 0) return [];
    const refs = new Set(kekRefs);
    const ids = this.#sortedIds();
    const out: Row[] = [];
    for (let i = after === undefined ? 0 : upperBound(ids, after); i < ids.length; i++) {
      const id = ids[i] as string;
      if (until !== undefined && id > until) break;
      const row = this.#rows.get(id) as Row;
      if (row.kekName !== kekName || !refs.has(row.kekRef)) continue;
      out.push(row);
      if (out.length === limit) break;
    }
    return out;
  }

  #remove(id: string): boolean {
    const row = this.#rows.get(id);
    if (row === undefined) return false;
    this.#rows.delete(id);
    const scoped = this.#byScope.get(row.scope);
    scoped?.delete(id);
    if (scoped?.size === 0) this.#byScope.delete(row.scope);
    this.#deleted = true;
    return true;
  }

  /**
   * The sorted id index, brought up to date lazily: inserts are collected and merged in one pass
   * on the next scan, so bulk loads cost one sort, not one array splice per row.
   */
  #sortedIds(): string[] {
    if (this.#pending.length === 0 && !this.#deleted) return this.#sorted;

    const live = this.#deleted ? this.#sorted.filter((id) => this.#rows.has(id)) : this.#sorted;
    const added = this.#pending.filter((id) => this.#rows.has(id)).sort();
    this.#sorted = added.length === 0 ? live : merge(live, added);
    this.#pending = [];
    this.#deleted = false;
    return this.#sorted;
  }
}

function toRecord(row: Row): DekRecord {
  return {
    id: row.id,
    scope: row.scope,
    kekName: row.kekName,
    kekRef: row.kekRef,
    wrapped: row.wrapped.slice(),
    revision: row.revision,
    createdAt: new Date(row.createdAt),
    rotatedAt: row.rotatedAt === null ? null : new Date(row.rotatedAt),
  };
}

/** Scopes (`nonEmpty` false) up to 255 chars, KEK names (`nonEmpty` true) up to 128. */
function checkText(value: unknown, field: string, nonEmpty = false): asserts value is string {
  const max = nonEmpty ? MAX_KEK_NAME : MAX_SCOPE;
  if (
    typeof value !== 'string' ||
    (nonEmpty && value.length === 0) ||
    value.length > max ||
    UNSTORABLE.test(value)
  ) {
    const what = nonEmpty ? 'a non-empty string' : 'a string';
    throw new InputError(`"${field}" expected ${what} of at most ${max} characters`);
  }
}

function checkRef(value: unknown, field: string): void {
  if (
    typeof value !== 'string' ||
    value.length > MAX_REF ||
    !KEK_REF.test(value) ||
    UNSTORABLE.test(value)
  ) {
    throw new InputError(`"${field}" expected "<provider>:<detail>" of at most ${MAX_REF} chars`);
  }
}

function checkWrapped(value: unknown): void {
  if (!(value instanceof Uint8Array) || value.length === 0 || value.length > MAX_WRAPPED) {
    throw new InputError(`"wrapped" expected 1 to ${MAX_WRAPPED} bytes`);
  }
}

/** Index of the first id greater than `id` in an ascending array. */
function upperBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ids[mid] as string) <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Merges two ascending arrays, dropping repeats (an id deleted and inserted again before the
 * index was rebuilt sits in both).
 */
function merge(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next =
      j >= b.length || (i < a.length && (a[i] as string) < (b[j] as string))
        ? (a[i++] as string)
        : (b[j++] as string);
    if (out.length === 0 || out[out.length - 1] !== next) out.push(next);
  }
  return out;
}
