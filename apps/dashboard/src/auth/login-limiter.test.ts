import { hasErrorCode } from '@rekey/crypto-core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { replicaRedis } from '../testing/replica-redis.ts';
import { type LoginLimiterOptions, RedisLoginLimiter } from './login-limiter.ts';

// Two connections, as two dashboard replicas would have.
const { one, two, freshPrefix } = replicaRedis();

/** Two limiters (replicas) on one fresh prefix and one test clock. */
function replicas(options: LoginLimiterOptions = {}) {
  const prefix = freshPrefix('limiter');
  const clock = { now: 5_000_000 };
  const shared = { windowMs: 60_000, ...options, now: () => clock.now };
  return {
    prefix,
    clock,
    a: new RedisLoginLimiter(one, prefix, shared),
    b: new RedisLoginLimiter(two, prefix, shared),
  };
}

describe('the failed-login limiter', () => {
  it('blocks an address after its failures on any replica until the window ends', async () => {
    const { a, b, clock } = replicas({ perAddress: 3 });
    for (const limiter of [a, b, a]) {
      expect((await limiter.begin('10.0.0.1')).retryAfterMs).toBe(0);
    }
    expect((await b.begin('10.0.0.1')).retryAfterMs).toBe(60_000);
    expect((await a.begin('10.0.0.2')).retryAfterMs).toBe(0);
    clock.now += 59_000;
    expect((await a.begin('10.0.0.1')).retryAfterMs).toBe(1_000);
    clock.now += 1_000;
    expect((await b.begin('10.0.0.1')).retryAfterMs).toBe(0);
  });

  it('blocks everyone when failures from many addresses add up', async () => {
    const { a, b } = replicas({ perAddress: 100, global: 5 });
    for (let i = 0; i < 5; i++) await (i % 2 === 0 ? a : b).begin(`10.0.1.${i}`);
    expect((await a.begin('10.9.9.9')).retryAfterMs).toBeGreaterThan(0);
  });

  it('clears an address after a successful login, and uncounts it for everyone', async () => {
    const { a, b } = replicas({ perAddress: 2, global: 3 });
    await a.begin('10.0.0.1');
    await (await b.begin('10.0.0.1')).succeeded();
    await a.begin('10.0.0.1');
    // Counted without the success, the address would be at its limit and everyone at theirs.
    expect((await b.begin('10.0.0.1')).retryAfterMs).toBe(0);
    expect((await a.begin('10.0.0.3')).retryAfterMs).toBeGreaterThan(0);
  });

  it('lets no more concurrent attempts through than the limit', async () => {
    const { a, b } = replicas({ perAddress: 3, global: 100 });
    const attempts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).begin('10.0.0.7')),
    );
    expect(attempts.filter((t) => t.retryAfterMs === 0)).toHaveLength(3);
  });

  it('keeps neither address nor count past the window, on the Redis server clock', async () => {
    const prefix = freshPrefix('limiter');
    const limiter = new RedisLoginLimiter(one, prefix, { windowMs: 60_000 });
    await limiter.begin('198.51.100.4');
    const keys = await one.keys(`${prefix}*`);
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).not.toContain('198.51.100.4');
      const ttl = await one.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });

  it('fails closed while Redis is away', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: 1, maxRetriesPerRequest: null });
    try {
      await new Promise((resolve) => redis.once('reconnecting', resolve));
      const limiter = new RedisLoginLimiter(redis, '{rekey-dash-down}', { timeoutMs: 200 });
      const error = await limiter.begin('10.0.0.1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(hasErrorCode(error, 'STORE_UNAVAILABLE')).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});
