/**
 * Leader election among workers with a Redis lock under the prefix. The leader upserts the job
 * schedulers and reconciles runs; losing the lock (or Redis) just hands the role to another.
 */
import { randomUUID } from 'node:crypto';

import type { RedisConnection } from './redis-connection.ts';

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** A renewable leadership lock. */
export class LeaderLock {
  readonly #redis: RedisConnection;
  readonly #key: string;
  readonly #token = randomUUID();
  readonly #ttlMs: number;

  constructor(redis: RedisConnection, prefix: string, ttlMs = 10_000) {
    this.#redis = redis;
    this.#key = `${prefix}:leader`;
    this.#ttlMs = ttlMs;
  }

  /** Takes or keeps the lock; true while this worker leads. */
  async hold(): Promise<boolean> {
    const result = await this.#redis.eval(RENEW, 1, this.#key, this.#token, this.#ttlMs);
    return Number(result) === 1;
  }

  async release(): Promise<void> {
    await this.#redis.eval(RELEASE, 1, this.#key, this.#token);
  }
}
