/**
 * A real stack for the dashboard's tests: Redis with a prefix of its own, a control store
 * (SQLite file or PostgreSQL tables with a prefix of their own), memory or PostgreSQL DEK stores
 * seeded with wrapped DEKs, the in-memory KEK provider, and optionally the worker engine running
 * in this process. Everything is removed again by `close()`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type DekStore, newDekId } from '@rekey/crypto-core';
import { MemoryKekProvider } from '@rekey/kek-providers/memory';
import { MemoryDekStore } from '@rekey/storage-adapters/memory';
import { PostgresDekStore } from '@rekey/storage-adapters/postgres';
import { createLogger } from '@rekey/worker';
import { parseConfig } from '@rekey/worker/config';
import {
  type ControlStore,
  postgresDriver,
  SqlControlStore,
  sqliteDriver,
} from '@rekey/worker/control';
import {
  createEngine,
  type Engine,
  type EngineDatabase,
  type EngineKek,
  RotationWorker,
} from '@rekey/worker/engine';
import { Redis } from 'ioredis';
import postgres from 'postgres';

import type { DashboardBackend, DashboardDatabase, DashboardKek } from '../dashboard-backend.ts';
import { assembleBackend, type BackendParts } from '../open-backend.ts';

/** Where the test servers are. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const POSTGRES_URL =
  process.env.REKEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** What to build. */
export interface TestStackOptions {
  readonly control?: 'sqlite' | 'postgres';
  readonly databases?: readonly { name: string; kind: 'memory' | 'postgres' }[];
  readonly kekNames?: readonly string[];
  /** DEKs seeded per database and KEK name (default 0). */
  readonly deks?: number;
  /** Start the worker engine in this process (default false). */
  readonly engine?: boolean;
  readonly batchSize?: number;
  /** Rewrap jobs per database at once (default 2); 1 makes pages finish one after another. */
  readonly concurrency?: number;
  /** Provider requests per second for the engine (2 per DEK): slows a run to watch it. */
  readonly requestsPerSecond?: number;
  /** A schedule for every KEK, e.g. `30d`. */
  readonly every?: string;
  /** Session and failed-login limits of the backend (and of its replicas). */
  readonly auth?: BackendParts['auth'];
}

/** A running stack. */
export interface TestStack {
  readonly backend: DashboardBackend;
  readonly prefix: string;
  readonly control: ControlStore;
  readonly provider: MemoryKekProvider;
  readonly stores: ReadonlyMap<string, DekStore>;
  readonly engine: Engine | undefined;
  /**
   * Another backend over the same Redis prefix and control store, on connections of its own:
   * what a second dashboard replica behind the same load balancer would open. Closed with the
   * stack.
   */
  replica(auth?: BackendParts['auth']): Promise<DashboardBackend>;
  close(): Promise<void>;
}

/** Opens a stack; `close()` it in `afterAll`. A stack that fails to open removes what it made. */
export async function openTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const hex = randomBytes(4).toString('hex');
  const names = {
    prefix: `{rekey-dash-${hex}}`,
    tablePrefix: `rkd_${hex}_`,
    dir: mkdtempSync(join(tmpdir(), 'rekey-dashboard-')),
  };
  try {
    return await open(options, names);
  } catch (error) {
    await removeLeftovers(names);
    throw error;
  }
}

interface StackNames {
  readonly prefix: string;
  readonly tablePrefix: string;
  readonly dir: string;
}

/** Deletes the Redis keys, PostgreSQL tables and files of a stack. */
async function removeLeftovers({ prefix, tablePrefix, dir }: StackNames): Promise<void> {
  const admin = new Redis(REDIS_URL);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  admin.disconnect();
  const pg = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  const tables =
    await pg`SELECT tablename FROM pg_tables WHERE tablename LIKE ${`${tablePrefix}%`}`;
  for (const t of tables) await pg.unsafe(`DROP TABLE IF EXISTS "${t.tablename}" CASCADE`);
  await pg.end({ timeout: 5 });
  rmSync(dir, { recursive: true, force: true });
}

async function open(options: TestStackOptions, names: StackNames): Promise<TestStack> {
  const { prefix, tablePrefix, dir } = names;
  const kekNames = options.kekNames ?? ['pii'];
  const dbSpecs = options.databases ?? [{ name: 'orders', kind: 'memory' }];
  const cleanups: (() => Promise<unknown>)[] = [];

  const openControl = () =>
    new SqlControlStore(
      options.control === 'postgres'
        ? postgresDriver(POSTGRES_URL)
        : sqliteDriver(join(dir, 'control.db')),
      tablePrefix,
    );
  const control = openControl();
  await control.migrate();

  const provider = new MemoryKekProvider({ initialKeks: kekNames });
  let sql: postgres.Sql | undefined;
  const stores = new Map<string, DekStore>();
  for (const spec of dbSpecs) {
    if (spec.kind === 'memory') {
      stores.set(spec.name, new MemoryDekStore());
      continue;
    }
    sql ??= postgres(POSTGRES_URL, { max: 6, onnotice: () => {} });
    const store = new PostgresDekStore(sql, { table: `${tablePrefix}deks_${spec.name}` });
    await store.migrate();
    stores.set(spec.name, store);
  }
  await seed(stores, provider, kekNames, options.deks ?? 0);

  let engine: Engine | undefined;
  let worker: RotationWorker | undefined;
  if (options.engine === true) {
    const config = parseConfig(
      {
        redis: { url: REDIS_URL, prefix },
        control: { kind: 'sqlite', path: join(dir, 'unused.db') },
        databases: dbSpecs.map((d) => ({ name: d.name, adapter: 'memory' })),
        keks: kekNames.map((name) => ({ name, provider: 'memory' })),
        limits: { batchSize: options.batchSize ?? 1000, progressInterval: 50, sweepDelay: 100 },
      },
      dir,
      {},
    );
    const engineDbs = new Map<string, EngineDatabase>(
      [...stores].map(([name, store]) => [
        name,
        { name, store, concurrency: options.concurrency ?? 2 },
      ]),
    );
    const engineKeks = new Map<string, EngineKek>(
      kekNames.map((name) => [
        name,
        {
          name,
          provider,
          schedule: undefined,
          retireAfterMs: undefined,
          requestsPerSecond: options.requestsPerSecond,
        },
      ]),
    );
    engine = await createEngine(config, createLogger({ level: 'silent' }), {
      redis: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
      control,
      databases: engineDbs,
      keks: engineKeks,
    });
    worker = new RotationWorker(engine.ctx, { tickMs: 200, lockDurationMs: 5_000 });
    await worker.start();
  }

  const schedule = options.every === undefined ? undefined : { everyMs: parseEvery(options.every) };
  const keks: DashboardKek[] = kekNames.map((name) => ({
    name,
    providerName: 'memory',
    provider,
    schedule,
    retireAfterMs: undefined,
  }));
  const databases: DashboardDatabase[] = [...stores].map(([name, store]) => ({ name, store }));
  const assemble = (controlStore: ControlStore, auth = options.auth) =>
    assembleBackend({
      ...(auth === undefined ? {} : { auth }),
      redis: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
      eventsRedis: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
      prefix,
      control: controlStore,
      keks,
      databases,
    });
  const backend = assemble(control);
  await backend.events.ready;

  const replicas: DashboardBackend[] = [];
  cleanups.push(async () => {
    for (const r of replicas) await r.close();
  });
  cleanups.push(async () => {
    await worker?.stop(2_000);
    await engine?.close();
    (engine?.ctx.redis as Redis | undefined)?.disconnect();
    await backend.close();
    await sql?.end({ timeout: 5 });
    await removeLeftovers(names);
  });

  return {
    backend,
    prefix,
    control,
    provider,
    stores,
    engine,
    async replica(auth) {
      const r = assemble(openControl(), auth);
      replicas.push(r);
      await r.events.ready;
      return r;
    },
    async close() {
      for (const c of cleanups) await c();
    },
  };
}

async function seed(
  stores: ReadonlyMap<string, DekStore>,
  provider: MemoryKekProvider,
  kekNames: readonly string[],
  count: number,
): Promise<void> {
  for (const store of stores.values()) {
    for (const kekName of kekNames) {
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < count; i++) {
        const id = newDekId();
        const binding = { dekId: id, scope: `tenant-${i % 5}`, kekName };
        pending.push(
          provider.wrap(randomBytes(32), binding).then((w) =>
            store.insert({
              id,
              scope: binding.scope,
              kekName,
              kekRef: w.kekRef,
              wrapped: w.bytes,
            }),
          ),
        );
        if (pending.length >= 50) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
    }
  }
}

function parseEvery(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (m === null) throw new TypeError('"every" expected a duration like 30d');
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
