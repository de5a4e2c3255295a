/**
 * The SQL text of a PostgreSQL DEK table's statements, built once per table so postgres.js can
 * prepare each one once and reuse it (a prepared statement is keyed by its text).
 */
import { ident } from './postgres-schema.ts';

const COLUMNS = 'id, scope, kek_name, kek_ref, wrapped, revision, created_at, rotated_at';

/** Every statement of one table. */
export interface PostgresStatements {
  readonly insert: string;
  readonly insertMany: string;
  readonly get: string;
  readonly getMany: string;
  readonly findByScope: string;
  readonly findByScopeAndName: string;
  readonly delete: string;
  readonly deleteScope: string;
  readonly swap: string;
  readonly count: string;
  readonly countByName: string;
  /** Scan text by shape: one ref or several, with or without `after` and `until`. */
  scan(multiRef: boolean, after: boolean, until: boolean): string;
  /** The same scan selecting `id` only, by the same shape. */
  scanIds(multiRef: boolean, after: boolean, until: boolean): string;
}

/** The statements of `table`, quoted once. */
export function postgresStatements(table: string): PostgresStatements {
  const t = ident(table);
  const scans = new Map<string, string>();
  const scanOf = (idsOnly: boolean, multiRef: boolean, after: boolean, until: boolean) => {
    const key = `${idsOnly}${multiRef}${after}${until}`;
    let text = scans.get(key);
    if (text === undefined) {
      text = scanText(t, idsOnly ? 'id' : COLUMNS, multiRef, after, until);
      scans.set(key, text);
    }
    return text;
  };

  return {
    insert: `INSERT INTO ${t} (id, scope, kek_name, kek_ref, wrapped)
      VALUES ($1::uuid, $2, $3, $4, $5::bytea) RETURNING ${COLUMNS}`,
    insertMany: `INSERT INTO ${t} (id, scope, kek_name, kek_ref, wrapped)
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[])`,
    get: `SELECT ${COLUMNS} FROM ${t} WHERE id = $1::uuid`,
    getMany: `SELECT ${COLUMNS} FROM ${t} WHERE id = ANY($1::uuid[])`,
    findByScope: `SELECT ${COLUMNS} FROM ${t} WHERE scope = $1 ORDER BY created_at, id`,
    findByScopeAndName: `SELECT ${COLUMNS} FROM ${t}
      WHERE scope = $1 AND kek_name = $2 ORDER BY created_at, id`,
    delete: `DELETE FROM ${t} WHERE id = $1::uuid`,
    deleteScope: `DELETE FROM ${t} WHERE scope = $1`,
    // The whole batch is ONE statement: the rows to write arrive as parallel arrays, are joined
    // to the table by id, and only rows whose revision and ref still match are written. Under
    // READ COMMITTED a row locked by a concurrent writer is re-checked against its new version
    // once that writer commits, so of two racing batches exactly one wins each row, and
    // RETURNING names the winners: every other id given is a conflict.
    swap: `UPDATE ${t} AS t
      SET kek_ref = v.new_ref, wrapped = v.wrapped, revision = t.revision + 1, rotated_at = now()
      FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::text[], $5::bytea[])
        AS v(id, expected_revision, expected_ref, new_ref, wrapped)
      WHERE t.id = v.id AND t.revision = v.expected_revision AND t.kek_ref = v.expected_ref
      RETURNING t.id`,
    count: `SELECT kek_name, kek_ref, count(*)::float8 AS count FROM ${t}
      GROUP BY kek_name, kek_ref ORDER BY kek_name COLLATE "C", kek_ref COLLATE "C"`,
    countByName: `SELECT kek_name, kek_ref, count(*)::float8 AS count FROM ${t}
      WHERE kek_name = $1 GROUP BY kek_name, kek_ref ORDER BY kek_ref COLLATE "C"`,
    scan: (multiRef, after, until) => scanOf(false, multiRef, after, until),
    scanIds: (multiRef, after, until) => scanOf(true, multiRef, after, until),
  };
}

/**
 * Keyset pagination: `id > after ORDER BY id LIMIT n` walks the `(kek_name, kek_ref, id)` index
 * from where the last page ended, so every page costs the same however deep the scan is (OFFSET
 * would re-read every earlier row). With several refs each ref's range is read by its own
 * index scan (LATERAL, at most `limit` rows each) and the pages merged: `kek_ref = ANY(...)`
 * would have to sort every remaining row of every ref to find the first `limit`. Selecting `id`
 * alone lets PostgreSQL answer from that index (an index-only scan, as far as the visibility map
 * allows) without reading the table's rows.
 *
 * Parameters: $1 kek_name, $2 ref (text) or refs (text[]), $3 limit, then after, then until.
 */
function scanText(
  t: string,
  columns: string,
  multiRef: boolean,
  after: boolean,
  until: boolean,
): string {
  let bounds = '';
  let n = 4;
  if (after) bounds += ` AND id > $${n++}::uuid`;
  if (until) bounds += ` AND id <= $${n++}::uuid`;

  if (!multiRef) {
    return `SELECT ${columns} FROM ${t}
      WHERE kek_name = $1 AND kek_ref = $2${bounds} ORDER BY id LIMIT $3`;
  }
  return `SELECT d.* FROM unnest($2::text[]) AS r(ref) CROSS JOIN LATERAL (
      SELECT ${columns} FROM ${t}
      WHERE kek_name = $1 AND kek_ref = r.ref${bounds} ORDER BY id LIMIT $3
    ) AS d ORDER BY d.id LIMIT $3`;
}
