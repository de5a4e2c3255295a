/** Redis connections for the engine, and the refusal to run on a Redis that evicts keys. */
import { ConfigError } from '@rekey/crypto-core';
import { Redis } from 'ioredis';

/**
 * A Redis connection. Workers wait for Redis forever (BullMQ needs no per-request retry limit);
 * a command-line call (`failFast`) gives up after a few attempts so the CLI reports the outage.
 */
export function connectRedis(url: string, options: { failFast?: boolean } = {}): Redis {
  if (options.failFast === true) {
    return new Redis(url, {
      maxRetriesPerRequest: 2,
      connectTimeout: 5_000,
      enableReadyCheck: true,
    });
  }
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/**
 * Throws unless Redis is configured never to evict keys: an evicted job or lock would silently
 * lose work. Reads `INFO memory`, which works where `CONFIG` is disabled (managed Redis).
 *
 * @throws {ConfigError} naming the policy found.
 */
export async function assertNoEviction(redis: Redis): Promise<void> {
  const info = await redis.info('memory');
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? 'unknown';
  if (policy !== 'noeviction') {
    throw new ConfigError(
      `redis maxmemory-policy is ${policy}; rekey needs noeviction so that no job or lock is evicted`,
    );
  }
}
