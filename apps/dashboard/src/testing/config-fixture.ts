/**
 * A worker configuration on disk over real servers, for tests that start the dashboard the way
 * an operator does (from `REKEY_CONFIG`): Redis with a prefix of its own, a PostgreSQL control
 * store and DEK table with a table prefix of their own, and a local keyring file. The DEK table
 * holds DEKs on two versions of `pii`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { newDekId } from '@rekey/crypto-core';
import { LocalKekProvider } from '@rekey/kek-providers/local';
import { PostgresDekStore } from '@rekey/storage-adapters/postgres';
import { Redis } from 'ioredis';
import postgres from 'postgres';

import { POSTGRES_URL, REDIS_URL } from './test-stack.ts';

/** The written configuration and how to remove everything again. */
export interface ConfigFixture {
  readonly configPath: string;
  /** DEKs per version of `pii`, oldest version first. */
  readonly deksPerVersion: readonly number[];
  close(): Promise<void>;
}

/** Writes the configuration, the keyring and the DEK table. */
export async function writeConfigFixture(): Promise<ConfigFixture> {
  const hex = randomBytes(4).toString('hex');
  const tablePrefix = `rkd_${hex}_`;
  const prefix = `{rekey-dash-${hex}}`;
  const dir = mkdtempSync(join(tmpdir(), 'rekey-dashboard-config-'));
  const sql = postgres(POSTGRES_URL, { max: 2, onnotice: () => {} });
  const deksPerVersion = [20, 10];

  const keyring = await LocalKekProvider.open({ path: join(dir, 'keyring.json') });
  const store = new PostgresDekStore(sql, { table: `${tablePrefix}deks_orders` });
  await store.migrate();
  for (const count of deksPerVersion) {
    await keyring.rotate('pii');
    for (let i = 0; i < count; i++) {
      const id = newDekId();
      const binding = { dekId: id, scope: 'tenant', kekName: 'pii' };
      const wrapped = await keyring.wrap(randomBytes(32), binding);
      await store.insert({
        id,
        scope: 'tenant',
        kekName: 'pii',
        kekRef: wrapped.kekRef,
        wrapped: wrapped.bytes,
      });
    }
  }
  await keyring.close?.();

  const configPath = join(dir, 'rekey.config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      redis: { url: REDIS_URL, prefix },
      control: { kind: 'postgres', url: POSTGRES_URL, tablePrefix },
      databases: [
        {
          name: 'orders',
          adapter: 'postgres',
          connection: POSTGRES_URL,
          table: `${tablePrefix}deks_orders`,
        },
      ],
      keks: [
        {
          name: 'pii',
          provider: 'local',
          settings: { path: 'keyring.json' },
          schedule: { every: '30d' },
        },
      ],
    }),
  );

  return {
    configPath,
    deksPerVersion,
    async close() {
      const tables =
        await sql`SELECT tablename FROM pg_tables WHERE tablename LIKE ${`${tablePrefix}%`}`;
      for (const t of tables) await sql.unsafe(`DROP TABLE IF EXISTS "${t.tablename}" CASCADE`);
      await sql.end({ timeout: 5 });
      const admin = new Redis(REDIS_URL);
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      admin.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
