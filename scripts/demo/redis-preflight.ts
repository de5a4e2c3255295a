/**
 * Before anything is written: is the demo's Redis there, and does it keep every key? And, on a
 * re-run, the previous demo's queue keys go, so no stale job meets the new control database.
 */
import { connect } from 'node:net';

import { assertNoEviction, connectRedis } from '../../apps/worker/src/engine/redis-connection.ts';

/** What to tell someone whose Redis is missing: the two ways to start one. */
export function redisHowTo(url: string): string {
  const where = safeAddress(url);
  return [
    `rekey demo: Redis is not reachable at ${where}.`,
    'Start one, then run the demo again:',
    '  redis-server --port 6379 --maxmemory-policy noeviction --daemonize yes',
    '      (Debian/Ubuntu: apt-get install redis-server)',
    'or, with Docker:',
    '  docker compose up -d redis',
    'or point the demo at another Redis: REKEY_DEMO_REDIS_URL=redis://host:port pnpm demo',
  ].join('\n');
}

/** Resolves to true when a TCP connection to the URL's host and port opens within 2 s. */
export function redisReachable(url: string): Promise<boolean> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  const port = Number(parsed.port || 6379);
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(2_000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * Checks the eviction policy and deletes every key under `prefix`.
 *
 * @throws {ConfigError} when Redis may evict keys (the worker would refuse to start).
 */
export async function prepareRedis(url: string, prefix: string): Promise<number> {
  const redis = connectRedis(url, { failFast: true });
  try {
    await assertNoEviction(redis);
    let removed = 0;
    let cursor = '0';
    // The prefix is a literal hash tag; escape the glob characters a tag may not hold anyway.
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
    return removed;
  } finally {
    redis.disconnect();
  }
}

/** host:port of a Redis URL, without user or password. */
export function safeAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}:${parsed.port || 6379}`;
  } catch {
    return '(unparsable REKEY_DEMO_REDIS_URL)';
  }
}
