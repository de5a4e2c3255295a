/** Rows of a SQLite DEK table and the records they become. */
import type { DekRecord, NewDekRecord } from '@rekey/crypto-core';

import { bytesToId } from '../id-bytes.ts';

/** The columns every read selects, in `Row` order. */
export const COLUMNS = 'id, scope, kek_name, kek_ref, wrapped, revision, created_at, rotated_at';

/** A row as both drivers return it (blobs as `Uint8Array` or `Buffer`, integers as numbers). */
export interface Row {
  id: Uint8Array;
  scope: string;
  kek_name: string;
  kek_ref: string;
  wrapped: Uint8Array;
  revision: number;
  created_at: number;
  rotated_at: number | null;
}

/** The record of a DEK just inserted at `createdAt` (epoch microseconds). */
export function newRecord(r: NewDekRecord, createdAt: number): DekRecord {
  return {
    id: r.id,
    scope: r.scope,
    kekName: r.kekName,
    kekRef: r.kekRef,
    wrapped: new Uint8Array(r.wrapped),
    revision: 1,
    createdAt: fromMicros(createdAt),
    rotatedAt: null,
  };
}

/** The record of a row; byte values are copied out of the driver's buffers. */
export function toRecord(row: Row): DekRecord {
  return {
    id: bytesToId(row.id),
    scope: row.scope,
    kekName: row.kek_name,
    kekRef: row.kek_ref,
    wrapped: new Uint8Array(row.wrapped),
    revision: Number(row.revision),
    createdAt: fromMicros(row.created_at),
    rotatedAt: row.rotated_at === null ? null : fromMicros(row.rotated_at),
  };
}

/** The `Date` of epoch microseconds (milliseconds are all a `Date` keeps). */
export function fromMicros(micros: number): Date {
  return new Date(Math.floor(Number(micros) / 1000));
}
