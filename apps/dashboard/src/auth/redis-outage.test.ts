/**
 * The sign-in path when Redis goes away: the dashboard's sessions and login limiter reach the
 * real Redis through a TCP relay that the test cuts, as a network failure or a Redis restart
 * would. Requests then fail closed, and the log says so without a secret in it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

import { StoreUnavailableError } from '@rekey/crypto-core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDashboard, type Dashboard } from '../app.ts';
import type { DashboardBackend } from '../dashboard-backend.ts';
import { assembleBackend } from '../open-backend.ts';
import { TEST_TOKENS } from '../testing/serve-test-stack.ts';
import { openTestStack, REDIS_URL, type TestStack } from '../testing/test-stack.ts';
import { RedisLoginLimiter } from './login-limiter.ts';
import { RedisSessionStore, type SessionStore } from './sessions.ts';
import { AccessTokens } from './tokens.ts';

const ORIGIN = 'http://localhost';

let stack: TestStack;
let relay: Server;
const relayed: Socket[] = [];
let redis: Redis;
let dashboard: Dashboard;
let eventsRedis: Redis;
let relayedBackend: DashboardBackend;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  stack = await openTestStack();
  const target = new URL(REDIS_URL);
  relay = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    relayed.push(client, upstream);
    client.pipe(upstream).on('error', () => client.destroy());
    upstream.pipe(client).on('error', () => upstream.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const { port } = relay.address() as { port: number };
  // As the dashboard's own connection is made: it waits for Redis forever.
  redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
  eventsRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  relayedBackend = assembleBackend({
    redis,
    eventsRedis,
    prefix: stack.prefix,
    control: stack.control,
    keks: [],
    databases: [],
  });
  dashboard = createDashboard({
    backend: stack.backend,
    tokens: new AccessTokens(TEST_TOKENS),
    sessions: new RedisSessionStore(redis, stack.prefix, { timeoutMs: 500 }),
    loginLimiter: new RedisLoginLimiter(redis, stack.prefix, { timeoutMs: 500 }),
    log: (entry) => logs.push(entry),
  });
});

afterAll(async () => {
  // Not close(): the control store belongs to the stack.
  await relayedBackend?.events.close();
  eventsRedis?.disconnect();
  dashboard?.close();
  redis?.disconnect();
  for (const socket of relayed) socket.destroy();
  await new Promise((resolve) => relay?.close(resolve));
  await stack?.close();
});

async function login(token: string): Promise<Response> {
  return dashboard.app.request('/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });
}

describe('the sign-in path without Redis', () => {
  it('signs nobody in and honours no cookie, and logs why without a secret', async () => {
    const res = await login(TEST_TOKENS.operator);
    expect(res.status).toBe(303);
    const cookie = /rekey_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const withCookie = { headers: { Cookie: `rekey_session=${cookie}` } };
    expect((await dashboard.app.request('/api/overview', withCookie)).status).toBe(200);

    // Redis goes away: the relay stops taking connections and drops the open ones.
    relay.close();
    for (const socket of relayed) socket.destroy();
    await new Promise((resolve) => redis.once('close', resolve));

    expect((await dashboard.app.request('/api/overview', withCookie)).status).toBe(401);
    const page = await dashboard.app.request('/', withCookie);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/^\/login/);
    const refused = await login(TEST_TOKENS.operator);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('set-cookie')).toBeNull();
    // Bearer tokens need no session store.
    const bearer = { headers: { Authorization: `Bearer ${TEST_TOKENS.viewer}` } };
    expect((await dashboard.app.request('/api/overview', bearer)).status).toBe(200);

    // The health check of a backend on that connection answers instead of waiting for Redis.
    expect(await relayedBackend.ping()).toEqual({ redis: false, control: true });

    const outage = logs.filter((l) => l.event === 'auth.unavailable');
    expect(outage.map((l) => l.operation)).toEqual(['session.get', 'session.get', 'login']);
    expect(outage[0]).toMatchObject({ level: 'error' });
    expect(String(outage[0]?.reason)).toMatch(/^session store unavailable/);
    const text = JSON.stringify(logs);
    for (const secret of [cookie, TEST_TOKENS.operator, TEST_TOKENS.viewer]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('a logout that does not reach the session store', () => {
  it('answers 503, keeps the cookie and the session, and logs why without a secret', async () => {
    // The real store, except that Redis is gone by the time the logout deletes the session (the
    // guard's lookup just before it succeeded): the one step that fails is the delete.
    const real = stack.backend.sessions;
    const sessions: SessionStore = {
      idleMs: real.idleMs,
      create: (role) => real.create(role),
      get: (id) => real.get(id),
      delete: async () => {
        throw new StoreUnavailableError('session store unavailable: redis is disconnected');
      },
    };
    const seen: Record<string, unknown>[] = [];
    const app = createDashboard({
      backend: stack.backend,
      tokens: new AccessTokens(TEST_TOKENS),
      sessions,
      loginLimiter: stack.backend.loginLimiter,
      log: (entry) => seen.push(entry),
    });
    try {
      const signedIn = await app.app.request('/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
        body: new URLSearchParams({ token: TEST_TOKENS.operator, next: '/' }).toString(),
      });
      const cookie = /rekey_session=([^;]+)/.exec(signedIn.headers.get('set-cookie') ?? '')?.[1];
      if (cookie === undefined)
        throw new Error(`login answered ${signedIn.status} without a cookie`);
      const withCookie = { headers: { Cookie: `rekey_session=${cookie}` } };
      const page = await app.app.request('/', withCookie);
      const csrf = /name="csrf-token" content="([^"]+)"/.exec(await page.text())?.[1] ?? '';
      expect(csrf).not.toBe('');

      const out = await app.app.request('/logout', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Cookie: `rekey_session=${cookie}`,
          Origin: ORIGIN,
        },
        body: new URLSearchParams({ _csrf: csrf }).toString(),
      });

      expect(out.status).toBe(503);
      expect(out.headers.get('set-cookie')).toBeNull();
      expect((await app.app.request('/api/overview', withCookie)).status).toBe(200);
      const outage = seen.filter((l) => l.event === 'auth.unavailable');
      expect(outage.map((l) => l.operation)).toEqual(['logout']);
      const text = JSON.stringify(seen);
      for (const secret of [cookie, csrf, TEST_TOKENS.operator]) expect(text).not.toContain(secret);
    } finally {
      app.close();
    }
  });
});
