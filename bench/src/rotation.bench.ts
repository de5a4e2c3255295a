/**
 * The rotation engine end to end: N DEKs in one PostgreSQL table under a local KEK, one
 * `rekey worker` process, `rekey rotate --wait`. Reports DEKs/s of the run and the worker's peak
 * memory, next to two baselines measured in the same run on the same table:
 *
 * - raw: one server-side `UPDATE` rewriting every row (ref, bytes, revision, time), no crypto;
 * - naive: per row, SELECT it, unwrap + wrap with the same provider, UPDATE it (autocommit),
 *   on a subset of the rows.
 *
 * REKEY_BENCH_PROFILE_DIR=dir writes a CPU profile of each spawned CLI process there.
 *
 * Sizes: REKEY_BENCH_ROTATION_DEKS, a comma list (default 20000; `250000,1000000` shows whether
 * memory stays flat as the table grows) and REKEY_BENCH_NAIVE_ROWS (default 1000).
 *
 * Then, against the KMS emulator of test/ (REKEY_BENCH_KMS=0 skips it):
 * - pacing: latency 2 ms, limit R (REKEY_BENCH_KMS_RATE, default 400) at the emulator and in the
 *   config, one worker: the achieved ReEncrypt rate against R (target at least 0.9 R);
 * - scaling: latency 50 ms, no limit, a database concurrency of 4 with 2 batches per worker
 *   and 8 requests in flight per batch, one worker then two on fresh tables: DEKs/s of each
 *   (target at least 1.6x). REKEY_BENCH_KMS_DEKS sets both sizes (default 3000).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type KekProvider, newDekId } from '@rekey/crypto-core';
import { connectRedis } from '@rekey/worker';
import { parseConfig } from '@rekey/worker/config';
import { openDekStore, openKekProvider } from '@rekey/worker/plugins';

import { startKmsEmulator } from '../../test/kms-emulator/index.ts';
import { reportRatio } from './_summary.ts';

const SIZES = (process.env.REKEY_BENCH_ROTATION_DEKS ?? '20000').split(',').map(Number);
const NAIVE_ROWS = Number(process.env.REKEY_BENCH_NAIVE_ROWS ?? 1_000);
const PG_URL = process.env.REKEY_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// Writes a V8 CPU profile of every spawned CLI process (worker, rotate) into this directory.
const PROFILE_DIR = process.env.REKEY_BENCH_PROFILE_DIR;
const REDIS_URL = process.env.REKEY_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'apps/worker/src/cli.ts');

// postgres.js is a dependency of @rekey/worker, not of the bench package: load it from there.
const fromWorker = createRequire(join(ROOT, 'apps/worker/package.json'));
type Sql = ((
  strings: TemplateStringsArray,
  ...values: unknown[]
) => Promise<Record<string, unknown>[]>) & {
  unsafe(query: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  array(values: unknown[], type?: number): unknown;
  end(options?: { timeout?: number }): Promise<void>;
};
const postgres = fromWorker('postgres') as (url: string, options?: object) => Sql;

/** `{"\\x..",...}`: a bytea[] literal, the form postgres.js sends as one text parameter. */
function byteaArray(values: readonly Uint8Array[]): string {
  return `{${values.map((v) => `"\\\\x${Buffer.from(v).toString('hex')}"`).join(',')}}`;
}

/** One Markdown table row. */
function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

interface Result {
  deks: number;
  runSeconds: number;
  rotateRate: number;
  rawRate: number;
  naiveRate: number;
  peakRssMb: number;
}

function run(
  args: string[],
  configPath: string,
): { done: Promise<{ code: number; out: string }>; pid: number } {
  const child = spawn(
    process.execPath,
    [
      ...(PROFILE_DIR === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR]),
      '--conditions=@rekey/source',
      '--import',
      'tsx',
      CLI,
      ...args,
      '--config',
      configPath,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, REKEY_LOG_LEVEL: 'warn' },
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const done = new Promise<{ code: number; out: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code: code ?? 1, out })),
  );
  return { done, pid: child.pid as number };
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function measure(deks: number): Promise<Result> {
  const hex = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), `rekey-bench-${hex}-`));
  const table = `rk_bench_${hex}`;
  const prefix = `{rekey-bench-${hex}}`;
  const raw = {
    redis: { url: REDIS_URL, prefix },
    control: { kind: 'sqlite', path: 'control.db' },
    databases: [{ name: 'pg', adapter: 'postgres', connection: PG_URL, table, concurrency: 2 }],
    keks: [{ name: 'pii', provider: 'local', settings: { path: 'keyring.json' } }],
    limits: { batchSize: 2000 },
  };
  const configPath = join(dir, 'rekey.config.json');
  writeFileSync(configPath, JSON.stringify(raw));
  const config = parseConfig(raw, dir);
  const provider = await openKekProvider(config.keks[0] as never, dir);
  const opened = await openDekStore(config.databases[0] as never);
  const sql = postgres(PG_URL, { max: 2, onnotice: () => {} });
  try {
    await provider.rotate('pii');
    const oldRef = await provider.primary('pii');

    // Seed in chunks: wrap in process, insert with one unnest statement per chunk.
    for (let done = 0; done < deks; ) {
      const n = Math.min(10_000, deks - done);
      const ids: string[] = [];
      const scopes: string[] = [];
      const wrapped: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const id = newDekId();
        const scope = `tenant-${(done + i) % 1000}`;
        const w = await provider.wrap(new Uint8Array(randomBytes(32)), {
          dekId: id,
          scope,
          kekName: 'pii',
        });
        ids.push(id);
        scopes.push(scope);
        wrapped.push(w.bytes);
      }
      await sql.unsafe(
        `INSERT INTO "${table}" (id, scope, kek_name, kek_ref, wrapped)
          SELECT u.id, u.scope, 'pii', $1, u.wrapped
          FROM unnest($2::uuid[], $3::text[], $4::bytea[]) AS u(id, scope, wrapped)`,
        [oldRef, `{${ids.join(',')}}`, `{${scopes.join(',')}}`, byteaArray(wrapped)],
      );
      done += n;
    }
    await sql.unsafe(`VACUUM ANALYZE "${table}"`);

    // The engine: one worker process, rotate --wait.
    const worker = run(['worker'], configPath);
    await new Promise((r) => setTimeout(r, 2_500));
    const rotate = await run(['rotate', 'pii', '--wait', '--json'], configPath).done;
    const last = JSON.parse(rotate.out.trim().split('\n').at(-1) as string);
    if (rotate.code !== 0 || last.phase !== 'completed')
      throw new Error(`rotation failed: ${rotate.out.slice(-500)}`);
    const runSeconds = (Date.parse(last.finishedAt) - Date.parse(last.createdAt)) / 1000;
    const peak = peakRssMb(worker.pid);
    process.kill(worker.pid, 'SIGTERM');
    await worker.done;

    // Baseline 1: one server-side UPDATE of every row.
    await sql.unsafe(`VACUUM ANALYZE "${table}"`);
    const rawStart = performance.now();
    await sql.unsafe(
      `UPDATE "${table}" SET kek_ref = 'local:pii/raw', wrapped = wrapped,
        revision = revision + 1, rotated_at = now()`,
    );
    const rawRate = deks / ((performance.now() - rawStart) / 1000);

    // Baseline 2: the naive loop, one row at a time.
    const target = await provider.primary('pii');
    const rows = await sql.unsafe(`SELECT id FROM "${table}" ORDER BY id LIMIT ${NAIVE_ROWS}`);
    const naiveStart = performance.now();
    for (const { id } of rows) {
      const [row] = await sql.unsafe(
        `SELECT scope, wrapped, revision FROM "${table}" WHERE id = $1`,
        [id],
      );
      if (row === undefined) continue;
      const binding = { dekId: String(id), scope: String(row.scope), kekName: 'pii' };
      const dek = await provider
        .unwrap({ kekRef: target, bytes: row.wrapped as Uint8Array }, binding)
        .catch(() => undefined);
      const next =
        dek === undefined ? row.wrapped : (await provider.wrap(dek, binding, target)).bytes;
      await sql.unsafe(
        `UPDATE "${table}" SET kek_ref = $1, wrapped = $2, revision = revision + 1,
          rotated_at = now() WHERE id = $3 AND revision = $4`,
        [target, next, id, row.revision],
      );
    }
    const naiveRate = rows.length / ((performance.now() - naiveStart) / 1000);

    return { deks, runSeconds, rotateRate: deks / runSeconds, rawRate, naiveRate, peakRssMb: peak };
  } finally {
    await sql.end({ timeout: 5 });
    await dropBenchState({ table, prefix, dir, opened, provider });
  }
}

/** Drops a benchmark's table, Redis keys and folder, and closes what it opened. */
async function dropBenchState(state: {
  table: string;
  prefix: string;
  dir: string;
  opened: { close(): Promise<void> };
  provider: KekProvider;
}): Promise<void> {
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
  await sql
    .unsafe(`DROP TABLE IF EXISTS "${state.table}", "${state.table}_schema"`)
    .catch(() => {});
  await sql.end({ timeout: 5 });
  await state.opened.close();
  await state.provider.close?.();
  const redis = connectRedis(REDIS_URL);
  const keys = await redis.keys(`${state.prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  rmSync(state.dir, { recursive: true, force: true });
}

/** One PostgreSQL table of `deks` DEKs under `kek` (seeded 32 wraps at a time), and a config. */
async function kmsSetup(
  kek: Record<string, unknown>,
  deks: number,
  limits: Record<string, unknown> = {},
) {
  const hex = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), `rekey-bench-${hex}-`));
  const table = `rk_bench_${hex}`;
  const prefix = `{rekey-bench-${hex}}`;
  const raw = {
    redis: { url: REDIS_URL, prefix },
    control: { kind: 'sqlite', path: 'control.db' },
    databases: [{ name: 'pg', adapter: 'postgres', connection: PG_URL, table, concurrency: 4 }],
    keks: [kek],
    limits: { batchSize: 1000, providerConcurrency: 64, ...limits },
  };
  const configPath = join(dir, 'rekey.config.json');
  writeFileSync(configPath, JSON.stringify(raw));
  const config = parseConfig(raw, dir, { ...process.env, ...KMS_ENV });
  const provider: KekProvider = await openKekProvider(config.keks[0] as never, dir);
  const opened = await openDekStore(config.databases[0] as never);
  if ((await provider.describe('pii')).length === 0) await provider.rotate('pii');
  for (let done = 0; done < deks; done += 32) {
    await Promise.all(
      Array.from({ length: Math.min(32, deks - done) }, async () => {
        const id = newDekId();
        const w = await provider.wrap(new Uint8Array(randomBytes(32)), {
          dekId: id,
          scope: 's',
          kekName: 'pii',
        });
        await opened.store.insert({
          id,
          scope: 's',
          kekName: 'pii',
          kekRef: w.kekRef,
          wrapped: w.bytes,
        });
      }),
    );
  }
  const cleanup = (): Promise<void> => dropBenchState({ table, prefix, dir, opened, provider });
  return { configPath, cleanup };
}

const KMS_ENV = { REKEY_BENCH_AWS_SECRET: 'emulator-secret' };

/** Runs `workers` worker processes and `rotate --wait`; the run's own duration in seconds. */
async function rotateWith(configPath: string, workers: number): Promise<number> {
  Object.assign(process.env, KMS_ENV);
  const running = Array.from({ length: workers }, () => run(['worker'], configPath));
  await new Promise((r) => setTimeout(r, 2_500));
  const rotate = await run(['rotate', 'pii', '--wait', '--json'], configPath).done;
  const last = JSON.parse(rotate.out.trim().split('\n').at(-1) as string);
  for (const w of running) process.kill(w.pid, 'SIGTERM');
  await Promise.all(running.map((w) => w.done));
  if (rotate.code !== 0 || last.phase !== 'completed')
    throw new Error(`rotation failed: ${rotate.out.slice(-300)}`);
  return (Date.parse(last.finishedAt) - Date.parse(last.createdAt)) / 1000;
}

async function kmsBenchmarks(): Promise<string[]> {
  const deks = Number(process.env.REKEY_BENCH_KMS_DEKS ?? 3_000);
  const rate = Number(process.env.REKEY_BENCH_KMS_RATE ?? 400);
  const lines: string[] = [];
  const kms = await startKmsEmulator({ latencyMs: 2 });
  try {
    const kek = (extra: Record<string, unknown>) => ({
      name: 'pii',
      provider: 'aws-kms',
      settings: {
        endpoint: kms.endpoint,
        region: kms.region,
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: { env: 'REKEY_BENCH_AWS_SECRET' },
      },
      ...extra,
    });

    // Pacing: the achieved ReEncrypt rate while the run rewraps, against R.
    const paced = await kmsSetup(kek({ requestsPerSecond: rate }), deks);
    kms.setRateLimit({ requestsPerSecond: rate });
    kms.resetCounts();
    const samples: { at: number; n: number }[] = [];
    const sampler = setInterval(
      () => samples.push({ at: performance.now(), n: kms.counts().byOperation.ReEncrypt ?? 0 }),
      50,
    );
    await rotateWith(paced.configPath, 1);
    clearInterval(sampler);
    const active = samples.filter((x) => x.n > 0 && x.n < deks);
    const first = active[0];
    const last = active.at(-1);
    const achieved =
      first && last && last.at > first.at ? (last.n - first.n) / ((last.at - first.at) / 1000) : 0;
    lines.push(
      row([
        `KMS pacing, R ${rate}/s, latency 2 ms, 1 worker`,
        `${fmt(achieved)} ReEncrypt/s`,
        `${(achieved / rate).toFixed(2)} R`,
        `throttled ${kms.counts().throttled}`,
      ]),
    );
    reportRatio({
      bench: 'rotation',
      measure: `KMS pacing, R ${rate}/s, latency 2 ms, ${fmt(deks)} DEKs`,
      value: achieved,
      baseline: rate,
      vs: 'limit R',
      unit: 'ReEncrypt/s',
      ratio: achieved / rate,
      target: { atLeast: 0.9 },
    });
    kms.setRateLimit(undefined);
    await paced.cleanup();

    // Scaling: a latency-bound provider, one worker process, then two.
    // Each process runs 2 of the database's 4 batches, 8 requests in flight each: latency-bound.
    kms.setLatency(50);
    const rates: number[] = [];
    for (const workers of [1, 2]) {
      const table = await kmsSetup(kek({}), deks, { batchesPerWorker: 2, providerConcurrency: 8 });
      rates.push(deks / (await rotateWith(table.configPath, workers)));
      await table.cleanup();
    }
    lines.push(
      row([
        'KMS scaling, latency 50 ms, 1 then 2 workers',
        `${fmt(rates[0] ?? 0)} / ${fmt(rates[1] ?? 0)} DEKs/s`,
        `${((rates[1] ?? 0) / (rates[0] ?? 1)).toFixed(2)}x`,
        '',
      ]),
    );
    reportRatio({
      bench: 'rotation',
      measure: `KMS scaling, latency 50 ms, 2 workers, ${fmt(deks)} DEKs`,
      value: rates[1] ?? 0,
      baseline: rates[0] ?? 0,
      vs: '1 worker',
      unit: 'DEKs/s',
      ratio: (rates[1] ?? 0) / (rates[0] ?? 1),
      target: { atLeast: 1.6 },
    });
  } finally {
    await kms.close();
  }
  return lines;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const results: Result[] = [];
for (const size of SIZES) results.push(await measure(size));

const head = ['DEKs', 'run s', 'rotate DEKs/s', 'raw UPDATE rows/s', 'naive rows/s'];
console.log(row([...head, 'rotate/raw', 'rotate/naive', 'worker peak RSS']));
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    row([
      fmt(r.deks),
      r.runSeconds.toFixed(1),
      fmt(r.rotateRate),
      fmt(r.rawRate),
      fmt(r.naiveRate),
      `${(r.rotateRate / r.rawRate).toFixed(3)}x`,
      `${(r.rotateRate / r.naiveRate).toFixed(1)}x`,
      `${r.peakRssMb} MB`,
    ]),
  );
  const measure = `rotate ${fmt(r.deks)} DEKs, 1 worker`;
  for (const [baseline, vs, atLeast] of [
    [r.rawRate, 'raw UPDATE', 0.15],
    [r.naiveRate, 'naive loop', 25],
  ] as const) {
    reportRatio({
      bench: 'rotation',
      measure,
      value: r.rotateRate,
      baseline,
      vs,
      unit: 'DEKs/s',
      ratio: r.rotateRate / baseline,
      target: { atLeast },
    });
  }
  reportRatio({
    bench: 'rotation',
    measure: `${measure}, worker peak RSS`,
    value: r.peakRssMb,
    baseline: 300,
    vs: 'budget',
    unit: 'MB',
    ratio: r.peakRssMb / 300,
    target: { below: 300, of: 'value' },
  });
}
console.log(
  'targets: rotate/raw >= 0.15x, rotate/naive >= 25x,',
  'peak RSS < 300 MB and flat as the table grows',
);
if (process.env.REKEY_BENCH_KMS !== '0') {
  const lines = await kmsBenchmarks();
  console.log('\n| KMS benchmark | measured | ratio | |\n|---|---|---|---|');
  for (const l of lines) console.log(l);
  console.log('targets: pacing at least 0.9 R, two workers at least 1.6x one');
}
process.exit(0);
