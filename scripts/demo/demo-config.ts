/** The demo's folder: a fresh worker config, tokens with mode 0600, nothing else. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { DemoOptions } from './demo-options.ts';

/** The KEK the demo rotates and the databases it fills. */
export const DEMO_KEK = 'demo';
export const DEMO_DATABASES = ['orders', 'customers'] as const;

/** Paths inside the demo folder. */
export interface DemoPaths {
  readonly config: string;
  readonly viewerToken: string;
  readonly operatorToken: string;
  readonly samples: string;
  readonly workerLog: string;
  readonly dashboardLog: string;
  readonly pid: string;
}

/** Where each demo file lives under `dir`. */
export function demoPaths(dir: string): DemoPaths {
  return {
    config: join(dir, 'rekey.config.json'),
    viewerToken: join(dir, 'viewer-token'),
    operatorToken: join(dir, 'operator-token'),
    samples: join(dir, 'samples.json'),
    workerLog: join(dir, 'worker.log'),
    dashboardLog: join(dir, 'dashboard.log'),
    pid: join(dir, 'demo.pid'),
  };
}

/** The pid of a demo still running from `dir`, if any. */
export function runningDemo(dir: string): number | undefined {
  const file = demoPaths(dir).pid;
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/**
 * Deletes and recreates the demo folder, then writes the config, two random tokens (mode 0600)
 * and this process's pid. A re-run therefore always starts from the same state.
 */
export function resetDemoDir(options: DemoOptions): DemoPaths {
  rmSync(options.dir, { recursive: true, force: true });
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const paths = demoPaths(options.dir);

  writeFileSync(paths.config, `${JSON.stringify(demoConfig(options), null, 2)}\n`, {
    mode: 0o600,
  });
  writeFileSync(paths.viewerToken, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  writeFileSync(paths.operatorToken, `${randomBytes(24).toString('base64url')}\n`, {
    mode: 0o600,
  });
  writeFileSync(paths.pid, String(process.pid));
  return paths;
}

/** The worker configuration of the demo; relative paths resolve against the demo folder. */
export function demoConfig(options: DemoOptions): Record<string, unknown> {
  // The worker refuses inline passwords: a URL with credentials is read from the environment.
  const hasCredentials = /^[a-z]+:\/\/[^/@]*@/i.test(options.redisUrl);
  return {
    redis: {
      url: hasCredentials ? { env: 'REKEY_DEMO_REDIS_URL' } : options.redisUrl,
      prefix: options.prefix,
    },
    control: { kind: 'sqlite', path: 'control.db' },
    databases: DEMO_DATABASES.map((name) => ({
      name,
      adapter: 'sqlite',
      connection: `${name}.db`,
      table: 'rekey_deks',
    })),
    keks: [
      {
        name: DEMO_KEK,
        provider: 'local',
        settings: { path: 'keyring.json' },
        ...(options.requestsPerSecond > 0 ? { requestsPerSecond: options.requestsPerSecond } : {}),
      },
    ],
    limits: {
      batchSize: 1000,
      databaseConcurrency: 2,
      sweepDelay: '500ms',
      progressInterval: '500ms',
    },
  };
}
