/**
 * The `DekStore` port: where wrapped DEKs live, next to the data they protect.
 *
 * An adapter (PostgreSQL, MySQL/MariaDB, SQLite, memory) implements it over a connection or pool
 * that the caller passes in. Every operation is one round trip or one transaction where the
 * database allows, and a batch is one statement, not one per row.
 */

import type { KekName, KekRef } from './kek-provider.ts';

/** One stored DEK. `wrapped` is provider output: the DEK is never stored in clear. */
export interface DekRecord {
  /** 16 random bytes in canonical lowercase UUID form; ordering by id is ordering by bytes. */
  readonly id: string;
  readonly scope: string;
  readonly kekName: KekName;
  readonly kekRef: KekRef;
  readonly wrapped: Uint8Array;
  /** Bumped on every rewrap: the compare-and-swap guard. Starts at 1. */
  readonly revision: number;
  readonly createdAt: Date;
  /** When the DEK was last rewrapped, or `null` if never. */
  readonly rotatedAt: Date | null;
}

/** A DEK to insert. The store sets `revision` to 1 and `createdAt` to now. */
export interface NewDekRecord {
  readonly id: string;
  readonly scope: string;
  readonly kekName: KekName;
  readonly kekRef: KekRef;
  readonly wrapped: Uint8Array;
}

/**
 * One page of a keyset scan: DEKs of `kekName` whose ref is one of `kekRefs`, with
 * `after < id <= until`, in ascending id order, at most `limit` of them.
 */
export interface DekScan {
  readonly kekName: KekName;
  readonly kekRefs: readonly KekRef[];
  /** Exclusive lower bound on id; from the first id when absent. */
  readonly after?: string;
  /** Inclusive upper bound on id; to the last id when absent. */
  readonly until?: string;
  /** Page size, at least 1. Adapters may refuse sizes above 10,000. */
  readonly limit: number;
}

/** One row of a compare-and-swap batch. */
export interface DekSwap {
  readonly id: string;
  /** The revision the caller read; the row is updated only if it still has it. */
  readonly expectedRevision: number;
  /** The ref the caller read; the row is updated only if it still has it. */
  readonly expectedKekRef: KekRef;
  readonly kekRef: KekRef;
  readonly wrapped: Uint8Array;
}

/** What a compare-and-swap batch did: every id given lands in exactly one list. */
export interface DekSwapResult {
  /** Rows that matched and now carry the new ref, bytes and revision + 1. */
  readonly updated: readonly string[];
  /** Rows that changed meanwhile, or no longer exist: left as they are. */
  readonly conflicted: readonly string[];
}

/** How many DEKs one KEK ref wraps. */
export interface DekCount {
  readonly kekName: KekName;
  readonly kekRef: KekRef;
  readonly count: number;
}

/**
 * A home for wrapped DEKs. Operations throw `InputError` for malformed input (bad id, empty or
 * oversized blob, bad ref), `DuplicateDekError` on an id clash, and `StoreUnavailableError`
 * (retryable) when the database cannot be reached. Nothing is ever half-written.
 */
export interface DekStore {
  /** Creates the DEK table and indexes, or brings an older schema forward. Idempotent. */
  migrate(): Promise<void>;

  /** @throws {DuplicateDekError} when the id is taken. */
  insert(record: NewDekRecord): Promise<DekRecord>;

  /** The DEK with this id, or `undefined`. */
  get(id: string): Promise<DekRecord | undefined>;

  /** The DEKs with these ids that exist, in no particular order. */
  getMany(ids: readonly string[]): Promise<DekRecord[]>;

  /** The DEKs of a scope, optionally of one KEK name only, oldest first. */
  findByScope(scope: string, kekName?: KekName): Promise<DekRecord[]>;

  /** Deletes one DEK. Returns whether it existed. */
  delete(id: string): Promise<boolean>;

  /** Deletes every DEK of a scope (crypto-shredding). Returns how many went. */
  deleteScope(scope: string): Promise<number>;

  /** One page of DEKs on the given refs, by keyset pagination on id (never OFFSET). */
  scan(query: DekScan): Promise<DekRecord[]>;

  /**
   * The ids of the page `scan(query)` would return, in the same order, with the same checks and
   * errors, but reading no wrapped bytes, scopes or times: a store can answer it from its
   * `(kek_name, kek_ref, id)` index alone. Optional, so stores written before it keep working;
   * callers fall back to `scan` and keep the ids.
   *
   * @throws {InputError} for a malformed query, exactly where `scan` throws it.
   */
  scanIds?(query: DekScan): Promise<string[]>;

  /**
   * Writes new wrapped bytes and refs where revision and ref still match, bumping revision and
   * setting `rotatedAt`. One statement for the whole batch.
   */
  compareAndSwap(swaps: readonly DekSwap[]): Promise<DekSwapResult>;

  /** DEK counts per KEK name and ref, optionally for one KEK name. */
  countByRef(kekName?: KekName): Promise<DekCount[]>;

  /** Releases what the store opened itself; a pool passed in by the caller is left open. */
  close?(): Promise<void>;
}
