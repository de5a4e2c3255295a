/**
 * The quick start's main job, `pnpm demo`, end to end on the local Redis: the non-serving mode
 * rotates every seeded DEK and the sample records still decrypt; the serving mode prints the
 * dashboard's URL and tokens and stops its children on Ctrl-C; without Redis it explains how to
 * start one and touches nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createEnvelope, fromBase64Url } from '@rekey/crypto-core';
import { connectRedis } from '@rekey/worker';
import { loadConfigFile } from '@rekey/worker/config';
import { openDekStore, openKekProvider } from '@rekey/worker/plugins';
import { afterAll, describe, expect, it } from 'vitest';

import { startDedicatedRedis } from '../worker/support/dedicated-redis.ts';
import { dumpRedis, findLeaks } from '../worker/support/leak-scan.ts';

declare const Deno: unknown;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REDIS_URL = 'redis://127.0.0.1:6379';

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `pnpm demo <args>` from the repository root, in its own process group (as on a terminal).
 * `direct` runs the script as the `demo` package script does, without pnpm in between: a
 * signal to the group then reaches the demo and its children only, and the exit status is the
 * demo's own (pnpm may die of the signal itself before the demo has finished stopping).
 */
function startDemo(
  args: readonly string[],
  env: Record<string, string>,
  direct = false,
): ChildProcess {
  const command = direct ? process.execPath : 'pnpm';
  const argv = direct
    ? ['--conditions=@rekey/source', '--import', 'tsx', 'scripts/demo/main.ts', ...args]
    : ['--silent', 'demo', ...args];
  return spawn(command, argv, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

function collect(child: ChildProcess): { output: () => Finished; done: Promise<Finished> } {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let code: number | null = null;
  const done = new Promise<Finished>((resolve) => {
    child.once('close', (exit) => {
      code = exit;
      resolve({ code, stdout, stderr });
    });
  });
  return { output: () => ({ code, stdout, stderr }), done };
}

/** Every KEK version's key bytes in a local keyring file. */
function keyringSecrets(dir: string): Uint8Array[] {
  const keyring = JSON.parse(readFileSync(join(dir, 'keyring.json'), 'utf8')) as {
    keks: Record<string, { key: string }[]>;
  };
  const keys = Object.values(keyring.keks).flatMap((versions) =>
    versions.map((v) => fromBase64Url(v.key)),
  );
  // A key the decoder refuses would make the leak scan vacuous: fail instead.
  if (keys.length === 0 || keys.some((k) => k === undefined || k.length !== 32)) {
    throw new Error('the demo keyring holds no 32-byte keys');
  }
  return keys as Uint8Array[];
}

function demoEnv(name: string, extra: Record<string, string> = {}): Record<string, string> {
  const dir = join(mkdtempSync(join(tmpdir(), `rekey-demo-${name}-`)), 'demo');
  return {
    REKEY_DEMO_DIR: dir,
    REKEY_DEMO_PREFIX: `{rekey-demo-${randomBytes(6).toString('hex')}}`,
    REKEY_LOG_LEVEL: 'info',
    ...extra,
  };
}

describe.skipIf(typeof Deno !== 'undefined')('pnpm demo', () => {
  const used: Record<string, string>[] = [];
  const started: ChildProcess[] = [];

  afterAll(async () => {
    // A failed assertion may leave a serving demo behind: stop its whole process group.
    for (const child of started) {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-(child.pid as number), 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
    }
    const redis = connectRedis(REDIS_URL, { failFast: true });
    try {
      for (const env of used) {
        const keys = await redis.keys(`${env.REKEY_DEMO_PREFIX}*`);
        if (keys.length > 0) await redis.unlink(...keys);
        rmSync(join(env.REKEY_DEMO_DIR as string, '..'), { recursive: true, force: true });
      }
    } finally {
      redis.disconnect();
    }
  });

  it('with --no-serve rotates every DEK to the new version, keeps the samples decrypting and exits 0', async () => {
    const env = demoEnv('run', { REKEY_DEMO_DEKS: '10000' });
    used.push(env);
    const dir = env.REKEY_DEMO_DIR as string;

    const result = await collect(startDemo(['--no-serve'], env)).done;

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/rotation [0-9a-f-]{36} completed/);
    expect(result.stdout).toContain('local:demo/v1 -> local:demo/v2');
    expect(result.stdout).toContain('20,008 of 20,008 DEKs rewrapped, 0 skipped, 0 failed');
    expect(result.stdout).toContain('verify: 0 DEKs left on older versions');
    expect(result.stdout).toContain('sample records: 24 of 24 decrypt after the rotation');
    expect(result.stdout).toMatch(/rekey demo: ok\n$/);

    // Every DEK of every database is on the primary, read from the stores themselves.
    const config = loadConfigFile(join(dir, 'rekey.config.json'));
    const kek = config.keks[0];
    if (kek === undefined) throw new Error('the demo config has no kek');
    const provider = await openKekProvider(kek, config.baseDir);
    const primary = await provider.primary('demo');
    expect(primary).toBe('local:demo/v2');
    const samples = JSON.parse(readFileSync(join(dir, 'samples.json'), 'utf8')) as {
      database: string;
      context: Record<string, string>;
      plaintext: string;
      envelope: string;
    }[];
    let decrypted = 0;
    for (const db of config.databases) {
      const opened = await openDekStore(db, false);
      try {
        const counts = await opened.store.countByRef('demo');
        expect(counts).toEqual([{ kekName: 'demo', kekRef: 'local:demo/v2', count: 10_004 }]);
        const envelope = createEnvelope({ provider, store: opened.store, kekName: 'demo' });
        for (const sample of samples.filter((s) => s.database === db.name)) {
          const text = await envelope.decryptText(sample.envelope, { context: sample.context });
          expect(text).toBe(sample.plaintext);
          decrypted++;
        }
        envelope.close();
      } finally {
        await opened.close();
      }
    }
    await provider.close?.();
    expect(decrypted).toBe(24);

    // No key material in what the demo printed, logged or left in Redis; tokens are private.
    const haystacks = [
      { name: 'stdout', data: Buffer.from(result.stdout) },
      { name: 'worker.log', data: readFileSync(join(dir, 'worker.log')) },
      ...(await dumpRedis(REDIS_URL, env.REKEY_DEMO_PREFIX as string)),
    ];
    expect(findLeaks(haystacks, keyringSecrets(dir))).toEqual([]);
    expect(statSync(join(dir, 'operator-token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'viewer-token')).mode & 0o777).toBe(0o600);
    expect(result.stdout).not.toContain(readFileSync(join(dir, 'operator-token'), 'utf8').trim());
  }, 120_000);

  it('serving, prints the dashboard URL and both tokens, and stops its children on Ctrl-C', async () => {
    const env = demoEnv('serve', { REKEY_DEMO_DEKS: '2000', REKEY_DEMO_PORT: '0' });
    used.push(env);
    const dir = env.REKEY_DEMO_DIR as string;
    const child = startDemo([], env, true);
    started.push(child);
    const run = collect(child);

    const deadline = Date.now() + 90_000;
    while (!run.output().stdout.includes('stop: Ctrl-C') && run.output().code === null) {
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const printed = run.output().stdout;
    const url = /dashboard {2}(http:\/\/127\.0\.0\.1:\d+)/.exec(printed)?.[1];
    const viewer = readFileSync(join(dir, 'viewer-token'), 'utf8').trim();
    const operator = readFileSync(join(dir, 'operator-token'), 'utf8').trim();
    expect(url).toBeDefined();
    expect(printed).toContain(`viewer token:   ${viewer}`);
    expect(printed).toContain(`operator token: ${operator}`);
    expect(viewer).not.toBe(operator);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);

    // Ctrl-C on a terminal signals the whole foreground process group.
    process.kill(-(child.pid as number), 'SIGINT');
    const result = await run.done;

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('stopping the worker and the dashboard');
    expect(readFileSync(join(dir, 'worker.log'), 'utf8')).toContain('"event":"worker.stopped"');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(
      findLeaks([{ name: 'stdout', data: Buffer.from(result.stdout) }], keyringSecrets(dir)),
    ).toEqual([]);
  }, 120_000);

  it('run again in the same folder, starts over from a fresh folder and a fresh keyring', async () => {
    const first = used[0];
    if (first === undefined) throw new Error('the first run did not happen');
    const env: Record<string, string> = { ...first, REKEY_DEMO_DEKS: '1500' };
    const before = readFileSync(join(env.REKEY_DEMO_DIR as string, 'operator-token'), 'utf8');

    const result = await collect(startDemo(['--no-serve'], env)).done;

    expect(result.code).toBe(0);
    // Reset, not reused: the keyring starts again at v1 and only the new DEKs exist.
    expect(result.stdout).toContain('local:demo/v1 -> local:demo/v2');
    expect(result.stdout).toContain('3,008 of 3,008 DEKs rewrapped');
    expect(readFileSync(join(env.REKEY_DEMO_DIR as string, 'operator-token'), 'utf8')).not.toBe(
      before,
    );
  }, 120_000);

  it('refuses a Redis that may evict keys, with the fix, before writing anything', async () => {
    const redisServer = await startDedicatedRedis();
    try {
      const url = redisServer.url;
      const probe = connectRedis(url, { failFast: true });
      await probe.config('SET', 'maxmemory-policy', 'allkeys-lru');
      probe.disconnect();
      const env = demoEnv('evicting', { REKEY_DEMO_REDIS_URL: url });
      used.push(env);

      const result = await collect(startDemo(['--no-serve'], env)).done;

      expect(result.code).toBe(1);
      expect(result.stderr).toContain('maxmemory-policy is allkeys-lru');
      expect(result.stderr).toContain('redis-cli config set maxmemory-policy noeviction');
      expect(existsSync(env.REKEY_DEMO_DIR as string)).toBe(false);
    } finally {
      redisServer.stop();
    }
  }, 60_000);

  it('without a reachable Redis says how to start one, exits non-zero and writes nothing', async () => {
    const env = demoEnv('no-redis', { REKEY_DEMO_REDIS_URL: 'redis://127.0.0.1:1' });
    used.push(env);

    const result = await collect(startDemo(['--no-serve'], env)).done;

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Redis is not reachable at redis://127.0.0.1:1');
    expect(result.stderr).toContain('redis-server --port 6379 --maxmemory-policy noeviction');
    expect(result.stderr).toContain('docker compose up -d redis');
    expect(existsSync(env.REKEY_DEMO_DIR as string)).toBe(false);
  }, 60_000);
});
