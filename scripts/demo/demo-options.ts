/** The demo's settings: command-line flags and `REKEY_DEMO_*` environment variables. */
import { resolve } from 'node:path';

/** Everything the demo driver needs to know before it starts. */
export interface DemoOptions {
  /** Serve the dashboard until Ctrl-C (default), or run to the end and exit (`--no-serve`). */
  readonly serve: boolean;
  /** The demo folder, wiped and rebuilt on every run. */
  readonly dir: string;
  /** The Redis the worker and the dashboard share. */
  readonly redisUrl: string;
  /** Key prefix of every queue, lock and event key (a Redis Cluster hash tag). */
  readonly prefix: string;
  /** DEKs seeded in each of the two databases. */
  readonly deksPerDatabase: number;
  /** Provider requests per second for the rotation; 0 means unpaced. */
  readonly requestsPerSecond: number;
  /** Dashboard port; 0 picks a free one. */
  readonly port: number;
}

export const DEMO_HELP = `Usage: pnpm demo [--no-serve] [--help]

Builds a demo under .rekey-demo/ (two SQLite databases, a local keyring, a SQLite control
database), seeds DEKs and encrypted sample records, starts the worker and the dashboard and a
first rotation. Every run starts over: the folder and the demo's Redis keys are reset.

Options:
  --no-serve   no dashboard: wait for the rotation, verify, print a summary and exit
  --help       this text

Environment:
  REKEY_DEMO_DIR         demo folder (default .rekey-demo in the repository)
  REKEY_DEMO_REDIS_URL   Redis URL (default redis://127.0.0.1:6379)
  REKEY_DEMO_PREFIX      queue key prefix (default {rekey-demo})
  REKEY_DEMO_DEKS        DEKs per database (default 20000)
  REKEY_DEMO_RATE        provider requests per second, 0 for unpaced (default 3000 when
                         serving, so progress is visible for about half a minute; else 0)
  REKEY_DEMO_PORT        dashboard port (default 8080 when free, else any free port)`;

/** Thrown for a flag or variable the demo cannot use; the message names it. */
export class DemoUsageError extends Error {
  override readonly name = 'DemoUsageError';
}

/**
 * Reads the flags and the environment.
 *
 * @throws {DemoUsageError} for an unknown flag or a malformed number or prefix.
 */
export function demoOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  repoRoot: string,
): DemoOptions | 'help' {
  const flags = argv.filter((arg) => arg !== '--');
  if (flags.includes('--help') || flags.includes('-h')) return 'help';
  const unknown = flags.find((arg) => arg !== '--no-serve');
  if (unknown !== undefined) throw new DemoUsageError(`unknown option ${unknown}`);

  const serve = !flags.includes('--no-serve');
  const prefix = env.REKEY_DEMO_PREFIX ?? '{rekey-demo}';
  if (!/^\{[A-Za-z0-9_.-]{1,64}\}$/.test(prefix)) {
    throw new DemoUsageError('REKEY_DEMO_PREFIX expected a hash tag like {rekey-demo}');
  }
  return {
    serve,
    dir: resolve(repoRoot, env.REKEY_DEMO_DIR ?? '.rekey-demo'),
    redisUrl: env.REKEY_DEMO_REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix,
    deksPerDatabase: count('REKEY_DEMO_DEKS', env.REKEY_DEMO_DEKS, 20_000, 1),
    requestsPerSecond: count('REKEY_DEMO_RATE', env.REKEY_DEMO_RATE, serve ? 3_000 : 0, 0),
    port: count('REKEY_DEMO_PORT', env.REKEY_DEMO_PORT, 8080, 0),
  };
}

function count(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new DemoUsageError(`${name} expected an integer >= ${min}`);
  }
  return value;
}
