/**
 * PKCS#11 wrap throughput against SoftHSM2: DEK wraps per second through the pkcs11 provider
 * with 1 session and with several, next to raw node:crypto AES-256-GCM of the same 32 bytes
 * with the same additional data, measured in the same run.
 *
 * - `async` calls: `C_Encrypt` runs on libuv's thread pool (pkcs11js `C_EncryptAsync`), so
 *   sessions can overlap; `C_EncryptInit` and the key lookup stay on the JavaScript thread.
 * - `sync` calls: everything on the JavaScript thread; more sessions cannot help.
 * - Each candidate keeps `BENCH_IN_FLIGHT` wraps in flight (many promises, as a rotation batch
 *   does); a session is held by one wrap at a time.
 *
 * The machine is shared and noisy, so candidates run in short interleaved rounds: rates are the
 * median over rounds, ratios the median of per-round ratios against `async, 1 session`.
 *
 *   BENCH_MS=300           time per measurement (default 150)
 *   BENCH_ROUNDS=7         interleaved rounds (default 3)
 *   BENCH_SESSIONS=1,4,8   session counts for async calls (default 1,2,4,8)
 *   BENCH_IN_FLIGHT=64     wraps in flight (default 64)
 *   UV_THREADPOOL_SIZE=8   libuv threads (Node's default 4 caps async calls at 4 at once)
 */
import { createCipheriv, randomBytes as nodeRandomBytes } from 'node:crypto';

import { type DekBinding, newDekId, randomBytes } from '@rekey/crypto-core';
import { openPkcs11KekProvider, type Pkcs11KekProvider } from '@rekey/kek-providers/pkcs11';

import {
  createSoftHsm,
  softHsmAvailable,
} from '../../packages/kek-providers/test-support/softhsm.ts';

import { reportRatio } from './_summary.ts';

const BENCH_MS = Number(process.env.BENCH_MS ?? 150);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SESSIONS = (process.env.BENCH_SESSIONS ?? '1,2,4,8').split(',').map(Number);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);

if (!softHsmAvailable) {
  console.log('SoftHSM2 is not installed (softhsm2-util, libsofthsm2.so): skipped');
  process.exit(0);
}

type Wrap = () => Promise<unknown> | unknown;

/** Wraps per second with `inFlight` loops running `wrap` back to back for about BENCH_MS. */
async function measure(wrap: Wrap, inFlight: number): Promise<number> {
  for (let i = 0; i < 32; i++) await wrap();
  let count = 0;
  const start = performance.now();
  const deadline = start + BENCH_MS;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        await wrap();
        count++;
      }
    }),
  );
  return (count * 1000) / (performance.now() - start);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const hsm = createSoftHsm();
const token = hsm.createToken('rekey-bench');
process.env.REKEY_BENCH_PIN = token.pin;

const kekName = 'bench';
const binding: DekBinding = { dekId: newDekId(), scope: 'tenant-1', kekName };
const dek = randomBytes(32);

// The baseline does the same work in process: AES-256-GCM of 32 bytes, fresh IV, same-sized AAD.
const rawKey = nodeRandomBytes(32);
const rawAad = nodeRandomBytes(96);
function nodeWrap(): Uint8Array {
  const iv = nodeRandomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', rawKey, iv);
  cipher.setAAD(rawAad);
  const out = new Uint8Array(1 + 8 + 12 + 32 + 16);
  out.set(iv, 9);
  out.set(cipher.update(dek), 21);
  cipher.final();
  out.set(cipher.getAuthTag(), 53);
  return out;
}

interface Candidate {
  readonly name: string;
  readonly inFlight: number;
  readonly wrap: Wrap;
}

const providers: Pkcs11KekProvider[] = [];
async function providerCandidate(calls: 'async' | 'sync', sessions: number): Promise<Candidate> {
  const provider = await openPkcs11KekProvider({
    modulePath: hsm.modulePath,
    tokenLabel: token.label,
    pin: { env: 'REKEY_BENCH_PIN' },
    sessions,
    calls,
    // Measures the wrap, not the primary lookup: the cache is refreshed once a minute at most.
    primaryCacheMs: 60_000,
  });
  providers.push(provider);
  return {
    name: `pkcs11 ${calls}, ${sessions} session${sessions === 1 ? '' : 's'}`,
    inFlight: IN_FLIGHT,
    wrap: () => provider.wrap(dek, binding),
  };
}

try {
  const setup = await openPkcs11KekProvider({
    modulePath: hsm.modulePath,
    tokenLabel: token.label,
    pin: { env: 'REKEY_BENCH_PIN' },
  });
  await setup.rotate(kekName);
  await setup.close();

  const candidates: Candidate[] = [
    { name: 'node:crypto AES-256-GCM', inFlight: 1, wrap: nodeWrap },
  ];
  for (const sessions of SESSIONS) candidates.push(await providerCandidate('async', sessions));
  candidates.push(await providerCandidate('sync', 1));
  const reference = candidates.findIndex((c) => c.name === 'pkcs11 async, 1 session');

  const rates: number[][] = candidates.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, candidate] of candidates.entries()) {
      rates[i]?.push(await measure(candidate.wrap, candidate.inFlight));
    }
  }

  console.log(
    `SoftHSM2 ${token.label}, ${IN_FLIGHT} wraps in flight, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, ${ROUNDS} rounds of ${BENCH_MS} ms`,
  );
  console.log('| candidate | wraps/s | vs async 1 session | vs node:crypto |');
  console.log('|---|---:|---:|---:|');
  for (const [i, candidate] of candidates.entries()) {
    const own = rates[i] as number[];
    const perRound = (base: number) =>
      median(own.map((r, round) => r / ((rates[base] as number[])[round] as number)));
    const vsOne = reference < 0 ? '-' : `${perRound(reference).toFixed(2)}x`;
    console.log(
      `| ${candidate.name} | ${Math.round(median(own)).toLocaleString('en-US')} | ${vsOne} | ${perRound(0).toFixed(3)}x |`,
    );
    if (i > 0) {
      reportRatio({
        bench: 'pkcs11',
        measure: `wrap, ${candidate.name}`,
        value: median(own),
        baseline: median(rates[0] as number[]),
        vs: 'raw node:crypto',
        unit: 'wraps/s',
        ratio: perRound(0),
      });
    }
  }
} finally {
  for (const provider of providers) await provider.close();
  hsm.destroy();
}
