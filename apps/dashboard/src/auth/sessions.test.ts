import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

import { hasErrorCode } from '@rekey/crypto-core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { replicaRedis } from '../testing/replica-redis.ts';
import { csrfTokenOf, RedisSessionStore, type SessionOptions, sessionDigest } from './sessions.ts';

// Two connections, as two dashboard replicas would have.
const { one, two, freshPrefix } = replicaRedis();

/** Two stores (replicas) on one fresh prefix, sharing `options`. */
function replicas(options: SessionOptions = {}) {
  const prefix = freshPrefix('sessions');
  return {
    prefix,
    a: new RedisSessionStore(one, prefix, options),
    b: new RedisSessionStore(two, prefix, options),
  };
}

function clock(start = 1_000_000) {
  const c = { now: start, fn: () => c.now };
  return c;
}

describe('the Redis session store', () => {
  it('creates sessions with random ids and CSRF tokens, known to every replica', async () => {
    const { a, b } = replicas();
    const s = await a.create('viewer');
    const t = await a.create('operator');
    expect(s.id).not.toBe(t.id);
    expect(s.csrfToken).not.toBe(t.csrfToken);
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.actor).toMatch(/^viewer@[0-9a-f]{4}$/);

    const seen = await b.get(s.id);
    expect(seen).toMatchObject({ id: s.id, role: 'viewer', actor: s.actor });
    expect(seen?.csrfToken).toBe(s.csrfToken);
    expect((await b.get(t.id))?.role).toBe('operator');
    expect(await b.get('no-such-id')).toBeUndefined();
    expect(await b.get(randomBytes(32).toString('base64url'))).toBeUndefined();
  });

  it('derives the CSRF token from the session id with HMAC-SHA256', () => {
    // HMAC-SHA256(key = "k", message = "rekey-dashboard csrf v1"), base64url, computed apart
    // with Python's hmac module.
    expect(csrfTokenOf('k')).toBe('9oGBJQRFWPspHQVQp_d-k5aOQTe6ZTgjR9lcMfEuRb0');
    expect(csrfTokenOf('k')).not.toBe(csrfTokenOf('l'));
  });

  it('expires a session left idle on every replica, and keeps one in use', async () => {
    const c = clock();
    const { a, b } = replicas({ idleMs: 1_000, absoluteMs: 100_000, now: c.fn });
    const used = await a.create('operator');
    const idle = await a.create('operator');
    for (let i = 0; i < 5; i++) {
      c.now += 600;
      expect(await (i % 2 === 0 ? b : a).get(used.id)).toBeDefined();
    }
    expect(await b.get(idle.id)).toBeUndefined();
    expect(await a.get(idle.id)).toBeUndefined();
  });

  it('expires every session after its absolute lifetime, however busy', async () => {
    const c = clock();
    const { a, b } = replicas({ idleMs: 1_000, absoluteMs: 3_000, now: c.fn });
    const s = await a.create('viewer');
    c.now += 900;
    await b.get(s.id);
    c.now += 900;
    await a.get(s.id);
    c.now += 900;
    expect(await b.get(s.id)).toBeDefined();
    c.now += 900;
    expect(await a.get(s.id)).toBeUndefined();
  });

  it('gives the Redis key the idle TTL, cut to what is left of the absolute lifetime', async () => {
    const c = clock();
    const { prefix, a } = replicas({ idleMs: 60_000, absoluteMs: 100_000, now: c.fn });
    const s = await a.create('viewer');
    const key = `${prefix}:dashboard:session:${sessionDigest(s.id)}`;
    const fresh = await one.pttl(key);
    expect(fresh).toBeGreaterThan(0);
    expect(fresh).toBeLessThanOrEqual(60_000);

    c.now += 59_000;
    await a.get(s.id);
    c.now += 39_000;
    await a.get(s.id);
    // 2 s of the absolute lifetime are left: the key outlives them by no more than that.
    const capped = await one.pttl(key);
    expect(capped).toBeGreaterThan(0);
    expect(capped).toBeLessThanOrEqual(2_000);
  });

  it('lets Redis drop a session whose idle TTL ran out, with no clock of its own', async () => {
    const { prefix, a } = replicas({ idleMs: 100 });
    const s = await a.create('viewer');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await a.get(s.id)).toBeUndefined();
    expect(await one.keys(`${prefix}*`)).toEqual([]);
  });

  it('keeps at most maxSessions, dropping the one nearest its expiry', async () => {
    const c = clock();
    const { prefix, a, b } = replicas({ maxSessions: 2, now: c.fn });
    const first = await a.create('viewer');
    const second = await b.create('viewer');
    c.now += 10;
    await a.get(first.id);
    const third = await b.create('viewer');
    expect(await a.get(second.id)).toBeUndefined();
    expect(await a.get(first.id)).toBeDefined();
    expect(await a.get(third.id)).toBeDefined();
    expect(await one.zcard(`${prefix}:dashboard:sessions`)).toBe(2);
    expect(await one.keys(`${prefix}:dashboard:session:*`)).toHaveLength(2);
  });

  it('forgets a session deleted on another replica', async () => {
    const { prefix, a, b } = replicas();
    const s = await a.create('operator');
    await b.delete(s.id);
    expect(await a.get(s.id)).toBeUndefined();
    expect(await one.keys(`${prefix}*`)).toEqual([]);
  });

  it('stores neither the session id nor its CSRF token in Redis', async () => {
    const { prefix, a } = replicas();
    const s = await a.create('operator');
    const keys = await one.keys(`${prefix}*`);
    expect(keys).toContain(`${prefix}:dashboard:session:${sessionDigest(s.id)}`);
    const stored = [
      ...keys,
      ...Object.entries(await one.hgetall(`${prefix}:dashboard:session:${sessionDigest(s.id)}`)),
      ...(await one.zrange(`${prefix}:dashboard:sessions`, 0, -1)),
    ].join('\n');
    expect(stored).not.toContain(s.id);
    expect(stored).not.toContain(s.csrfToken);
  });
});

describe('the Redis session store without Redis', () => {
  let silent: Server;
  let silentPort = 0;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers: Redis hung, or a network path that drops replies.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  async function unavailable(redis: Redis): Promise<void> {
    const store = new RedisSessionStore(redis, '{rekey-dash-down}', { timeoutMs: 200 });
    const id = randomBytes(32).toString('base64url');
    for (const call of [
      () => store.create('viewer'),
      () => store.get(id),
      () => store.delete(id),
    ]) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(hasErrorCode(error, 'STORE_UNAVAILABLE')).toBe(true);
      expect(String((error as Error).message)).not.toContain(id);
    }
  }

  it('fails closed when Redis does not answer in time', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: silentPort, maxRetriesPerRequest: null });
    try {
      await unavailable(redis);
    } finally {
      redis.disconnect();
    }
  });

  it('fails closed at once while the connection is down', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: 1, maxRetriesPerRequest: null });
    try {
      await new Promise((resolve) => redis.once('reconnecting', resolve));
      await unavailable(redis);
    } finally {
      redis.disconnect();
    }
  });
});
