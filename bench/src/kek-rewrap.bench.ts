/**
 * DEK rewraps per second through the KEK providers, next to a raw AES-256-GCM baseline measured
 * in the same run:
 *
 * - raw: `node:crypto` AES-256-GCM seal of a 32-byte DEK (a wrap), and open + seal under two
 *   cached keys (a rewrap, the baseline every ratio is against);
 * - local: `LocalKekProvider` unwrap + wrap to the new version, in process;
 * - aws-kms: `AwsKmsKekProvider.rewrap` (`ReEncrypt`) through the real SDK against the KMS
 *   emulator on loopback, without a rate limit, with no added latency and with a set latency;
 *   and, for comparison, a client-side rewrap (`Decrypt` + `Encrypt`, two requests).
 *
 * Sizes by environment variable: REKEY_BENCH_LOCAL_REWRAPS (default 20,000),
 * REKEY_BENCH_KMS_REWRAPS (default 1,000), REKEY_BENCH_CONCURRENCY (default 16),
 * REKEY_BENCH_LATENCY_MS (default 2).
 *
 * NOTE: the emulator runs in the benchmark's own process and shares its CPU with the SDK, so
 * the aws-kms figures are a lower bound for the client side, not a model of real KMS (whose
 * latency is 5-20 ms and whose quota is a few thousand requests a second per account).
 */
import { createCipheriv, createDecipheriv, randomBytes as nodeRandomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type KekProvider, newDekId, randomBytes, type WrappedDek } from '@rekey/crypto-core';
import { AwsKmsKekProvider } from '@rekey/kek-providers/aws-kms';
import { LocalKekProvider } from '@rekey/kek-providers/local';

import { startKmsEmulator } from '../../test/kms-emulator/index.ts';
import { reportRatio } from './_summary.ts';

const LOCAL_REWRAPS = Number(process.env.REKEY_BENCH_LOCAL_REWRAPS ?? 20_000);
const KMS_REWRAPS = Number(process.env.REKEY_BENCH_KMS_REWRAPS ?? 1_000);
const CONCURRENCY = Number(process.env.REKEY_BENCH_CONCURRENCY ?? 16);
const LATENCY_MS = Number(process.env.REKEY_BENCH_LATENCY_MS ?? 2);

interface Row {
  readonly name: string;
  readonly count: number;
  readonly seconds: number;
}

const RAW_AAD = Buffer.from('dek-id|scope|kek-name|ref');

function rawSeal(key: Buffer, dek: Buffer) {
  const iv = nodeRandomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(RAW_AAD);
  const body = cipher.update(dek);
  cipher.final();
  return { iv, body, tag: cipher.getAuthTag() };
}

/** Raw wrap: seal a DEK under a cached key, synchronous node:crypto. */
function rawWraps(count: number): Row {
  const key = nodeRandomBytes(32);
  const deks = Array.from({ length: count }, () => nodeRandomBytes(32));

  const start = performance.now();
  for (const dek of deks) rawSeal(key, dek);
  return { name: 'raw AES-256-GCM wrap (node:crypto, sync)', count, seconds: seconds(start) };
}

/** Raw rewrap, the baseline: open under the old key, seal under the new one. */
function rawRewraps(count: number): Row {
  const oldKey = nodeRandomBytes(32);
  const newKey = nodeRandomBytes(32);
  const wrapped = Array.from({ length: count }, () => rawSeal(oldKey, nodeRandomBytes(32)));

  const start = performance.now();
  for (const w of wrapped) {
    const decipher = createDecipheriv('aes-256-gcm', oldKey, w.iv);
    decipher.setAAD(RAW_AAD);
    decipher.setAuthTag(w.tag);
    const dek = decipher.update(w.body);
    decipher.final();
    rawSeal(newKey, dek);
  }
  return { name: 'raw AES-256-GCM rewrap (node:crypto, sync)', count, seconds: seconds(start) };
}

/** Runs `task` for indices 0..count-1 with at most `concurrency` in flight. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

interface Prepared {
  readonly provider: KekProvider;
  readonly items: { readonly wrapped: WrappedDek; readonly dekId: string }[];
  readonly target: string;
  readonly kekName: string;
}

async function prepare(provider: KekProvider, count: number): Promise<Prepared> {
  const kekName = `bench-${Date.now()}`;
  await provider.rotate(kekName);
  const items: Prepared['items'] = [];
  await pool(count, CONCURRENCY, async () => {
    const dekId = newDekId();
    items.push({ dekId, wrapped: await provider.wrap(randomBytes(32), binding(dekId, kekName)) });
  });
  const target = (await provider.rotate(kekName)).ref;
  return { provider, items, target, kekName };
}

function binding(dekId: string, kekName: string) {
  return { dekId, scope: 'bench', kekName };
}

async function rewrapAll(
  name: string,
  p: Prepared,
  concurrency: number,
  serverSide = true,
): Promise<Row> {
  const start = performance.now();
  await pool(p.items.length, concurrency, async (i) => {
    const item = p.items[i] as Prepared['items'][number];
    const b = binding(item.dekId, p.kekName);
    if (serverSide && p.provider.rewrap !== undefined) {
      await p.provider.rewrap(item.wrapped, b, p.target);
    } else {
      await p.provider.wrap(await p.provider.unwrap(item.wrapped, b), b, p.target);
    }
  });
  return { name, count: p.items.length, seconds: seconds(start) };
}

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  rawWraps(LOCAL_REWRAPS); // warm-up: let the JIT settle before measuring
  rawRewraps(LOCAL_REWRAPS);
  const raw = rawRewraps(LOCAL_REWRAPS);
  rows.push(raw, rawWraps(LOCAL_REWRAPS));

  const dir = await mkdtemp(join(tmpdir(), 'rekey-bench-'));
  try {
    const local = await LocalKekProvider.open({ path: join(dir, 'keyring.json') });
    const prepared = await prepare(local, LOCAL_REWRAPS);
    await rewrapAll('warm-up', prepared, CONCURRENCY);
    rows.push(await rewrapAll('local: unwrap + wrap, one at a time', prepared, 1));
    rows.push(
      await rewrapAll(`local: unwrap + wrap, ${CONCURRENCY} in flight`, prepared, CONCURRENCY),
    );
    await local.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const kms = await startKmsEmulator();
  const provider = new AwsKmsKekProvider({
    region: kms.region,
    endpoint: kms.endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    const prepared = await prepare(provider, KMS_REWRAPS);
    await rewrapAll('warm-up', prepared, CONCURRENCY); // JIT and keep-alive sockets settle
    kms.resetCounts();
    rows.push(await rewrapAll('aws-kms ReEncrypt, emulator, one at a time', prepared, 1));
    rows.push(
      await rewrapAll(
        `aws-kms ReEncrypt, emulator, ${CONCURRENCY} in flight`,
        prepared,
        CONCURRENCY,
      ),
    );
    rows.push(
      await rewrapAll(
        `aws-kms Decrypt + Encrypt, emulator, ${CONCURRENCY} in flight`,
        prepared,
        CONCURRENCY,
        false,
      ),
    );
    kms.setLatency(LATENCY_MS);
    rows.push(
      await rewrapAll(
        `aws-kms ReEncrypt, emulator +${LATENCY_MS} ms, ${CONCURRENCY} in flight`,
        prepared,
        CONCURRENCY,
      ),
    );
    const counts = kms.counts();
    console.log(
      `emulator requests: ${JSON.stringify(counts.byOperation)}, ` +
        `throttled ${counts.throttled}, errors ${JSON.stringify(counts.errorsByType)}`,
    );
  } finally {
    await provider.close();
    await kms.close();
  }

  const baseline = raw.count / raw.seconds;
  console.log('\n| case | operations | seconds | per second | vs raw rewrap |');
  console.log('|---|---:|---:|---:|---:|');
  for (const row of rows) {
    const rate = row.count / row.seconds;
    console.log(
      `| ${row.name} | ${row.count} | ${row.seconds.toFixed(3)} | ${Math.round(rate)} | ` +
        `${(rate / baseline).toFixed(4)} |`,
    );
    if (!row.name.startsWith('raw')) {
      reportRatio({
        bench: 'kek-rewrap',
        measure: row.name,
        value: rate,
        baseline,
        vs: 'raw rewrap',
        unit: 'rewraps/s',
        ratio: rate / baseline,
      });
    }
  }
}

await main();
