/**
 * The few SQL operations the control store needs, over SQLite (better-sqlite3) or PostgreSQL
 * (postgres.js). Statements use `?` placeholders; the PostgreSQL driver numbers them.
 */
import type { Sql } from 'postgres';
import postgres from 'postgres';

/** A row as the driver returns it. */
export type SqlRow = Record<string, unknown>;

/** What one statement did. */
export interface SqlResult {
  readonly rows: SqlRow[];
  readonly changes: number;
}

/** Runs statements, possibly inside a transaction. */
export interface SqlExecutor {
  query(text: string, params?: readonly unknown[]): Promise<SqlResult>;
}

/** A control-store connection. */
export interface SqlDriver extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `fn` in one transaction, holding a lock named `lockKey` when given (PostgreSQL). */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, lockKey?: string): Promise<T>;
  /** True when `error` is a unique-constraint violation. */
  isUniqueViolation(error: unknown): boolean;
  close(): Promise<void>;
}

/** A driver over a PostgreSQL URL. */
export function postgresDriver(url: string): SqlDriver {
  // BIGINT columns come back as strings; the store converts them with Number().
  const sql: Sql = postgres(url, { max: 4, onnotice: () => {} });
  const number = (text: string): string => {
    let n = 0;
    return text.replace(/\?/g, () => `$${++n}`);
  };
  const run = async (q: Sql, text: string, params: readonly unknown[] = []): Promise<SqlResult> => {
    const result = await q.unsafe(number(text), params as never[]);
    return { rows: [...result] as SqlRow[], changes: result.count ?? 0 };
  };
  return {
    dialect: 'postgres',
    query: (text, params) => run(sql, text, params),
    async transaction(fn, lockKey) {
      return (await sql.begin(async (tx) => {
        const exec: SqlExecutor = {
          query: (text, params) => run(tx as unknown as Sql, text, params),
        };
        if (lockKey !== undefined) {
          await exec.query('SELECT pg_advisory_xact_lock(hashtext(?))', [lockKey]);
        }
        return fn(exec);
      })) as never;
    },
    isUniqueViolation: (error) => (error as { code?: string }).code === '23505',
    close: () => sql.end({ timeout: 5 }),
  };
}
