/**
 * One isolated environment per test: a Redis key prefix `{rekey-test-<hex>}`, DEK tables named
 * `rk_<hex>` in PostgreSQL and MariaDB, SQLite files, a keyring and a control database in a
 * temporary directory, and a config file naming them. `cleanup()` removes all of it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { type DekStore, type KekProvider, type NewDekRecord, newDekId } from '@rekey/crypto-core';
import { connectRedis, runCli } from '@rekey/worker';
import { parseConfig, type WorkerConfig } from '@rekey/worker/config';
import { type ControlStore, openControlStore, postgresDriver } from '@rekey/worker/control';
import { openDekStore, openKekProvider } from '@rekey/worker/plugins';

import { workerDependency } from './drivers.ts';

export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** The part of mysql2/promise the clean-up uses. */
interface MysqlModule {
  createConnection(url: string): Promise<{
    query(sql: string, params?: unknown[]): Promise<[unknown, unknown]>;
    end(): Promise<void>;
  }>;
}

/** Which databases a fixture configures. */
export type DatabaseKind = 'postgres' | 'mysql' | 'sqlite';

/** Fixture options; everything else comes from sensible test defaults. */
export interface FixtureOptions {
  readonly databases: readonly DatabaseKind[];
  readonly control?: 'sqlite' | 'postgres';
  readonly redisUrl?: string;
  /** The `redis` section without `prefix` (e.g. `{ cluster: { nodes } }`); replaces `redisUrl`. */
  readonly redis?: Record<string, unknown>;
  /** The KEK entry (default: `pii` on a local keyring in the fixture directory). */
  readonly kek?: Record<string, unknown>;
  readonly limits?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}

/** A seeded DEK, kept by the test to check results (and to look for leaks). */
export interface SeededDek {
  readonly id: string;
  readonly scope: string;
  readonly plaintext: Uint8Array;
  readonly wrapped: Uint8Array;
}

/** The environment of one test. */
export class Fixture {
  readonly hex = randomBytes(4).toString('hex');
  readonly prefix = `{rekey-test-${this.hex}}`;
  readonly dir = mkdtempSync(join(tmpdir(), `rekey-it-${this.hex}-`));
  readonly configPath = join(this.dir, 'rekey.config.json');
  readonly table = `rk_${this.hex}`;
  readonly raw: Record<string, unknown>;
  readonly config: WorkerConfig;
  readonly env: Record<string, string>;

  constructor(options: FixtureOptions) {
    const databases = options.databases.map((kind) => {
      if (kind === 'postgres')
        return { name: 'pg', adapter: 'postgres', connection: PG_URL, table: this.table };
      if (kind === 'mysql')
        return { name: 'maria', adapter: 'mysql', connection: MYSQL_URL, table: this.table };
      return { name: 'lite', adapter: 'sqlite', connection: 'deks.db', table: this.table };
    });
    const control =
      options.control === 'postgres'
        ? { kind: 'postgres', url: PG_URL, tablePrefix: `rk${this.hex}_` }
        : { kind: 'sqlite', path: 'control.db' };
    this.raw = {
      redis: { ...(options.redis ?? { url: options.redisUrl ?? REDIS_URL }), prefix: this.prefix },
      control,
      databases,
      keks: [options.kek ?? { name: 'pii', provider: 'local', settings: { path: 'keyring.json' } }],
      limits: { batchSize: 1000, progressInterval: 100, sweepDelay: 200, ...options.limits },
    };
    this.env = options.env ?? {};
    this.config = parseConfig(this.raw, this.dir, { ...process.env, ...this.env });
    writeFileSync(this.configPath, JSON.stringify(this.raw, null, 2));
  }

  /** Opens one configured database's store (migrated). */
  async store(name: string): Promise<{ store: DekStore; close(): Promise<void> }> {
    const db = this.config.databases.find((d) => d.name === name);
    if (db === undefined) throw new Error(`no database ${name}`);
    return openDekStore(db);
  }

  /** Opens the configured KEK's provider. */
  async provider(): Promise<KekProvider> {
    const kek = this.config.keks[0];
    if (kek === undefined) throw new Error('no kek');
    return openKekProvider(kek, this.dir);
  }

  async control(): Promise<ControlStore> {
    return openControlStore(this.config.control);
  }

  /** Creates `count` DEKs under the provider's primary in one database, in bulk where possible. */
  async seed(database: string, count: number, provider: KekProvider): Promise<SeededDek[]> {
    const kekName = this.config.keks[0]?.name as string;
    if ((await provider.describe(kekName)).length === 0) await provider.rotate(kekName);
    const { store, close } = await this.store(database);
    // The SQL stores have a one-statement bulk insert beyond the port; use it where it exists.
    const bulk = (
      store as Partial<{ insertMany(r: readonly NewDekRecord[]): Promise<void> }>
    ).insertMany?.bind(store);
    const seeded: SeededDek[] = [];
    for (let done = 0; done < count; ) {
      const n = Math.min(1_000, count - done);
      const records: NewDekRecord[] = [];
      for (let i = 0; i < n; i++) {
        const id = newDekId();
        const scope = `tenant-${(done + i) % 13}`;
        const plaintext = new Uint8Array(randomBytes(32));
        const wrapped = await provider.wrap(plaintext, { dekId: id, scope, kekName });
        records.push({ id, scope, kekName, kekRef: wrapped.kekRef, wrapped: wrapped.bytes });
        seeded.push({ id, scope, plaintext, wrapped: wrapped.bytes });
      }
      if (bulk !== undefined) await bulk(records);
      else for (const r of records) await store.insert(r);
      done += n;
    }
    await close();
    return seeded;
  }

  /** Runs the CLI in this process; resolves with its exit status and output. */
  async cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    const withConfig = args.includes('--config')
      ? [...args]
      : [...args, '--config', this.configPath];
    const code = await runCli(withConfig, {
      stdout,
      stderr,
      env: { ...process.env, ...this.env },
    });
    return { code, stdout: out, stderr: err };
  }

  /** Every Redis key under this fixture's prefix. */
  async redisKeys(url = REDIS_URL): Promise<string[]> {
    const redis = connectRedis(url);
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      return keys;
    } finally {
      await redis.quit();
    }
  }

  /**
   * Drops the tables and keys this fixture created and removes its directory. Keys are left on a
   * Redis Cluster: the test that starts one throws the whole cluster away.
   */
  async cleanup(): Promise<void> {
    const redisUrl = (this.raw.redis as { url?: string }).url;
    const keys =
      redisUrl === undefined ? [] : await this.redisKeys(redisUrl).catch(() => [] as string[]);
    if (redisUrl !== undefined && keys.length > 0) {
      const redis = connectRedis(redisUrl);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      await redis.quit();
    }
    const pg = postgresDriver(PG_URL);
    const { rows } = await pg.query(
      `SELECT tablename FROM pg_tables WHERE tablename LIKE ? OR tablename LIKE ?`,
      [`rk_${this.hex}%`, `rk${this.hex}_%`],
    );
    for (const r of rows) await pg.query(`DROP TABLE IF EXISTS "${String(r.tablename)}" CASCADE`);
    await pg.close();
    if (this.config.databases.some((d) => d.adapter === 'mysql')) {
      const mysql = await workerDependency<MysqlModule>('mysql2/promise');
      const conn = await mysql.createConnection(MYSQL_URL);
      const [tables] = await conn.query(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'test' AND table_name LIKE ?`,
        [`rk_${this.hex}%`],
      );
      for (const t of tables as { t: string }[])
        await conn.query(`DROP TABLE IF EXISTS \`${t.t}\``);
      await conn.end();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
