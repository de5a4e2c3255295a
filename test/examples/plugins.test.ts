/**
 * The example plugins of docs/plugins.md pass the same conformance suites as rekey's own
 * providers and stores.
 */

import { describeKekProvider } from '@rekey/kek-providers/conformance';
import { describeDekStore } from '@rekey/storage-adapters/conformance';
import { PostgresDekStore } from '@rekey/storage-adapters/postgres';
import { describe, expect, it } from 'vitest';

import { AuditedDekStore, type DekAuditEvent } from '../../examples/plugins/audited-dek-store.ts';
import { createDekStore } from '../../examples/plugins/audited-postgres-plugin.ts';
import {
  InMemorySecretStore,
  SecretStoreKekProvider,
} from '../../examples/plugins/secret-store-kek-provider.ts';
import { connect } from '../../examples/postgres-aws-kms/database.ts';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

describeKekProvider(
  'secret-store (example plugin)',
  async () => ({ provider: new SecretStoreKekProvider(new InMemorySecretStore()) }),
  { rewrap: false },
);

describeDekStore(
  'audited postgres (example plugin)',
  async ({ table }) => {
    const sql = connect(DATABASE_URL);
    const inner = new PostgresDekStore(sql, { table });
    const store = new AuditedDekStore(inner, () => {});
    return {
      store,
      bulkInsert: (records) => inner.insertMany(records),
      disconnect: () => sql.end(),
      dispose: async () => {
        await sql.end();
        const admin = connect(DATABASE_URL);
        await admin.unsafe(`DROP TABLE IF EXISTS "${table}", "${table}_schema"`);
        await admin.end();
      },
    };
  },
  { scanRows: 20_000 },
);

describe('AuditedDekStore', () => {
  it('reports inserts, deletes and rewraps with refs and counts but no wrapped bytes', async () => {
    const { MemoryDekStore } = await import('@rekey/crypto-core/testing');
    const events: DekAuditEvent[] = [];
    const store = new AuditedDekStore(new MemoryDekStore(), (event) => events.push(event));
    const wrapped = new Uint8Array(40).fill(0xab);
    const id = '00000000-0000-4000-8000-000000000001';

    await store.insert({ id, scope: 't1', kekName: 'pii', kekRef: 'x:pii/v1', wrapped });
    await store.compareAndSwap([
      { id, expectedRevision: 1, expectedKekRef: 'x:pii/v1', kekRef: 'x:pii/v2', wrapped },
    ]);
    await store.deleteScope('t1');

    expect(events).toEqual([
      { type: 'inserted', id, scope: 't1', kekRef: 'x:pii/v1' },
      { type: 'rewrapped', updated: 1, conflicted: 0, kekRefs: ['x:pii/v2'] },
      { type: 'scope-deleted', scope: 't1', count: 1 },
    ]);
    expect(JSON.stringify(events)).not.toMatch(/abab|q6ur/i);
  });

  it('loads as a worker plugin: createDekStore opens its own pool, audits to JSON lines and ends the pool on close', async () => {
    const table = `rekey_deks_plugin_${Math.random().toString(16).slice(2, 10)}`;
    const lines: string[] = [];
    const store = createDekStore(
      { name: 'app', connection: DATABASE_URL, table, settings: {} },
      (line) => lines.push(line),
    );
    const id = '00000000-0000-4000-8000-000000000002';
    try {
      await store.migrate();
      await store.insert({
        id,
        scope: 't1',
        kekName: 'pii',
        kekRef: 'x:pii/v1',
        wrapped: new Uint8Array(40),
      });
      expect((await store.get(id))?.kekRef).toBe('x:pii/v1');
      expect(lines.map((line) => JSON.parse(line))).toEqual([
        {
          msg: 'dek audit',
          database: 'app',
          type: 'inserted',
          id,
          scope: 't1',
          kekRef: 'x:pii/v1',
        },
      ]);
      await store.close?.();
      await expect(store.get(id)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    } finally {
      const admin = connect(DATABASE_URL);
      await admin.unsafe(`DROP TABLE IF EXISTS "${table}", "${table}_schema"`);
      await admin.end();
    }
  });

  it('refuses a database without a connection string', () => {
    expect(() =>
      createDekStore({ name: 'app', connection: undefined, table: 't', settings: {} }),
    ).toThrow(/needs a connection/);
  });
});
