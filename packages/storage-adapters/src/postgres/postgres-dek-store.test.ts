import postgres from 'postgres';
import { describe, expect, it } from 'vitest';

import { describeDekStore } from '../conformance/index.ts';
import { PostgresDekStore } from './index.ts';

const CONNECTION = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };

function connect(): postgres.Sql {
  return postgres({ ...CONNECTION, max: 4, onnotice: () => {} });
}

async function dropTable(table: string): Promise<void> {
  const sql = connect();
  try {
    await sql.unsafe(`DROP TABLE IF EXISTS "${table}", "${table}_schema"`);
  } finally {
    await sql.end();
  }
}

describeDekStore('postgres', async ({ table }) => {
  const sql = connect();
  const store = new PostgresDekStore(sql, { table });
  return {
    store,
    bulkInsert: (records) => store.insertMany(records),
    disconnect: () => sql.end(),
    dispose: async () => {
      await sql.end();
      await dropTable(table);
    },
  };
});

describe('PostgresDekStore', () => {
  it('creates the DESIGN.md columns and indexes and records schema version 1', async () => {
    const table = `rekey_deks_pgschema_${Math.random().toString(16).slice(2, 10)}`;
    const sql = connect();
    try {
      const store = new PostgresDekStore(sql, { table });
      await Promise.all([store.migrate(), store.migrate()]);

      const columns = await sql`SELECT column_name, data_type FROM information_schema.columns
        WHERE table_name = ${table} ORDER BY ordinal_position`;
      const indexes = await sql`SELECT indexdef FROM pg_indexes WHERE tablename = ${table}`;
      const versions = await sql.unsafe(`SELECT version FROM "${table}_schema"`);

      expect(columns.map((c) => `${c.column_name} ${c.data_type}`)).toEqual([
        'id uuid',
        'scope text',
        'kek_name text',
        'kek_ref text',
        'wrapped bytea',
        'revision integer',
        'created_at timestamp with time zone',
        'rotated_at timestamp with time zone',
      ]);
      const defs = indexes.map((i) => String(i.indexdef)).join('\n');
      expect(defs).toContain('(kek_name, kek_ref, id)');
      expect(defs).toContain('(scope, created_at)');
      expect(versions.map((v) => v.version)).toEqual([1]);
    } finally {
      await sql.end();
      await dropTable(table);
    }
  });

  it('refuses a client that renames columns or transforms values', async () => {
    const camel = postgres({ ...CONNECTION, transform: postgres.camel });
    const values = postgres({ ...CONNECTION, transform: { value: (v: unknown) => v } });

    expect(() => new PostgresDekStore(camel)).toThrow(/without `transform`/);
    expect(() => new PostgresDekStore(values)).toThrow(/without `transform`/);
    await Promise.all([camel.end(), values.end()]);
  });

  it('refuses table names that are not plain lowercase identifiers', () => {
    const sql = connect();
    for (const table of ['', 'Deks', 'deks; drop table x', '1deks', 'x'.repeat(49)]) {
      expect(() => new PostgresDekStore(sql, { table })).toThrow(/"table" expected/);
    }
    return sql.end();
  });

  it('maps a backend the server terminates mid-query to a retryable StoreUnavailableError', async () => {
    const table = `rekey_deks_pgkill_${Math.random().toString(16).slice(2, 10)}`;
    const app = `rekey-kill-${table}`;
    const sql = postgres({ ...CONNECTION, max: 1, connection: { application_name: app } });
    const admin = connect();
    const store = new PostgresDekStore(sql, { table });
    try {
      await store.migrate();
      // Hold the table so the store's query waits on the lock, then terminate its backend.
      const holder = await admin.reserve();
      await holder`BEGIN`;
      await holder.unsafe(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
      const pending = store.countByRef().catch((e: unknown) => e);
      for (let waited = 0; waited < 200; waited++) {
        const [row] = await admin`SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
          WHERE application_name = ${app} AND wait_event_type = 'Lock'`;
        if (row?.done === true) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const error = await pending;
      await holder`ROLLBACK`;
      holder.release();

      expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
    } finally {
      // NOTE: postgres.js 3.4 never settles a graceful end() after its backend was terminated.
      await sql.end({ timeout: 0 });
      await admin.end();
      await dropTable(table);
    }
  });

  it('reports an unreachable server as StoreUnavailableError without the connection details', async () => {
    const sql = postgres({ ...CONNECTION, port: 1, password: 'hunter2', connect_timeout: 2 });
    const store = new PostgresDekStore(sql, { table: 'rekey_deks_unreachable' });
    try {
      const error = await store.countByRef().catch((e: unknown) => e);

      expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
      expect(String((error as Error).message)).not.toMatch(/127\.0\.0\.1|hunter2|postgres:/);
    } finally {
      await sql.end();
    }
  });
});
