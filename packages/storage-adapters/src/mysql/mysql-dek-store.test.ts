import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';

import { describeDekStore } from '../conformance/index.ts';
import { MysqlDekStore } from './index.ts';

const CONNECTION = { host: '127.0.0.1', port: 3306, user: 'root', database: 'test' };

function connect(): mysql.Pool {
  return mysql.createPool({ ...CONNECTION, connectionLimit: 4 });
}

async function dropTable(table: string): Promise<void> {
  const pool = connect();
  try {
    await pool.query(`DROP TABLE IF EXISTS \`${table}\`, \`${table}_schema\``);
  } finally {
    await pool.end();
  }
}

describeDekStore('mysql', async ({ table }) => {
  const pool = connect();
  const store = new MysqlDekStore(pool, { table });
  let ended = false;
  return {
    store,
    bulkInsert: (records) => store.insertMany(records),
    disconnect: async () => {
      ended = true;
      await pool.end();
    },
    dispose: async () => {
      if (!ended) await pool.end();
      await dropTable(table);
    },
  };
});

describe('MysqlDekStore', () => {
  it('creates a binary-keyed InnoDB table with both indexes and schema version 1', async () => {
    const table = `rekey_deks_myschema_${Math.random().toString(16).slice(2, 10)}`;
    const pool = connect();
    try {
      const store = new MysqlDekStore(pool, { table });
      await Promise.all([store.migrate(), store.migrate()]);

      const [columns] = await pool.query(
        `SELECT column_name AS c, column_type AS t FROM information_schema.columns
         WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position`,
        [table],
      );
      const [indexes] = await pool.query(
        `SELECT index_name AS i, GROUP_CONCAT(column_name ORDER BY seq_in_index) AS c
         FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ?
         GROUP BY index_name ORDER BY index_name`,
        [table],
      );
      const [versions] = await pool.query(`SELECT version FROM \`${table}_schema\``);

      const described = (columns as { c: string; t: string }[]).map((r) => `${r.c} ${r.t}`);
      expect(described.slice(0, 2)).toEqual(['id binary(16)', 'scope varbinary(1020)']);
      expect(described).toContain('wrapped varbinary(4096)');
      expect((indexes as { c: string }[]).map((r) => r.c)).toEqual([
        'id',
        'kek_name,kek_ref,id',
        'scope,created_at',
      ]);
      expect(versions).toEqual([{ version: 1 }]);
    } finally {
      await pool.end();
      await dropTable(table);
    }
  });

  it('maps a connection the server kills mid-query to a retryable StoreUnavailableError', async () => {
    const table = `rekey_deks_mykill_${Math.random().toString(16).slice(2, 10)}`;
    const pool = connect();
    const admin = await mysql.createConnection(CONNECTION);
    const store = new MysqlDekStore(pool, { table });
    try {
      await store.migrate();
      // Hold the table so the store's query waits, then kill its connection.
      await admin.query(`LOCK TABLES \`${table}\` WRITE`);
      const pending = store.countByRef().catch((e: unknown) => e);
      for (let waited = 0; waited < 200; waited++) {
        const [rows] = await admin.query(
          `SELECT id FROM information_schema.processlist WHERE info LIKE ? AND id <> CONNECTION_ID()`,
          [`%FROM \`${table}\` GROUP BY%`],
        );
        const id = (rows as { id: number }[])[0]?.id;
        if (id !== undefined) {
          await admin.query('KILL CONNECTION ?', [id]);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const error = await pending;
      await admin.query('UNLOCK TABLES');

      expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
      expect(await store.countByRef()).toEqual([]);
    } finally {
      await admin.end();
      await pool.end();
      await dropTable(table);
    }
  });

  it('reads rows the same from a pool that returns arrays, nested tables and strings', async () => {
    const table = `rekey_deks_myopts_${Math.random().toString(16).slice(2, 10)}`;
    const pool = mysql.createPool({
      ...CONNECTION,
      rowsAsArray: true,
      nestTables: true,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    const store = new MysqlDekStore(pool, { table });
    try {
      await store.migrate();
      const dek = {
        id: '00112233-4455-6677-8899-aabbccddeeff',
        scope: 's',
        kekName: 'pii',
        kekRef: 'local:pii/v1',
        wrapped: new Uint8Array([1, 2]),
      };
      const inserted = await store.insert(dek);

      expect(await store.get(dek.id)).toEqual(inserted);
      expect(inserted).toMatchObject({ id: dek.id, revision: 1, kekRef: 'local:pii/v1' });
      expect(await store.countByRef()).toEqual([{ kekName: 'pii', kekRef: dek.kekRef, count: 1 }]);
    } finally {
      await pool.end();
      await dropTable(table);
    }
  });

  it('reports an unreachable server as StoreUnavailableError without the connection details', async () => {
    const pool = mysql.createPool({ ...CONNECTION, port: 1, password: 'hunter2' });
    const store = new MysqlDekStore(pool, { table: 'rekey_deks_unreachable' });
    try {
      const error = await store.countByRef().catch((e: unknown) => e);

      expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
      expect(String((error as Error).message)).not.toMatch(/127\.0\.0\.1|hunter2|mysql:/);
    } finally {
      await pool.end();
    }
  });
});
