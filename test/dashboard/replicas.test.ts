/**
 * Two dashboard replicas behind one load balancer: each has a backend of its own (its own Redis
 * and control store connections) over the same Redis prefix, and is served over HTTP on a port
 * of its own. A browser may reach either on any request, so a session, its CSRF token, its end
 * and the failed-login counts must be the same on both.
 */
import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readRedisContents } from '../../apps/dashboard/src/testing/redis-contents.ts';
import {
  type ServedReplicas,
  serveReplicas,
  TEST_TOKENS,
} from '../../apps/dashboard/src/testing/serve-test-stack.ts';

const IDLE_MS = 60_000;
const ABSOLUTE_MS = 300_000;

let replicas: ServedReplicas;
let a = '';
let b = '';
// The sessions' clock, shared by both replicas as the Redis server's clock would be; the tests
// move it forward instead of waiting.
const clock = { now: Date.now() };

beforeAll(async () => {
  replicas = await serveReplicas(2, {
    heartbeatMs: 200,
    auth: { sessions: { idleMs: IDLE_MS, absoluteMs: ABSOLUTE_MS, now: () => clock.now } },
  });
  [a, b] = replicas.urls as [string, string];
}, 60_000);

afterAll(async () => {
  await replicas?.close();
});

/** Posts the login form to `url`. */
async function login(url: string, token: string = TEST_TOKENS.operator): Promise<Response> {
  return fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: url },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });
}

/** Signs in on `url`; answers the cookie value. */
async function signIn(url: string, token: string = TEST_TOKENS.operator): Promise<string> {
  const res = await login(url, token);
  expect(res.status).toBe(303);
  const cookie = /rekey_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  expect(cookie).toBeDefined();
  return cookie as string;
}

/** The CSRF token a page of `url` shows to the session. */
async function csrfOn(url: string, cookie: string): Promise<string> {
  const page = await fetch(`${url}/`, { headers: { Cookie: `rekey_session=${cookie}` } });
  expect(page.status).toBe(200);
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  expect(csrf).not.toBe('');
  return csrf;
}

function overview(url: string, cookie: string): Promise<Response> {
  return fetch(`${url}/api/overview`, { headers: { Cookie: `rekey_session=${cookie}` } });
}

function logout(url: string, cookie: string, csrf: string): Promise<Response> {
  return fetch(`${url}/logout`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Cookie: `rekey_session=${cookie}`,
      Origin: url,
    },
    body: new URLSearchParams({ _csrf: csrf }).toString(),
  });
}

describe('two dashboard replicas on one Redis', () => {
  it('know a session signed in on the other, with the same CSRF token', async () => {
    const cookie = await signIn(a);
    expect((await overview(b, cookie)).status).toBe(200);
    const csrf = await csrfOn(a, cookie);
    expect(await csrfOn(b, cookie)).toBe(csrf);
  });

  it('end a session everywhere when it signs out on one of them', async () => {
    const cookie = await signIn(a);
    const csrf = await csrfOn(a, cookie);
    const out = await logout(b, cookie, csrf);
    expect(out.status).toBe(303);
    expect((await overview(a, cookie)).status).toBe(401);
    expect((await overview(b, cookie)).status).toBe(401);
  });

  it('end an event stream on one at its next heartbeat after a logout on the other', async () => {
    const cookie = await signIn(a);
    const csrf = await csrfOn(a, cookie);
    const res = await fetch(`${a}/api/events`, { headers: { Cookie: `rekey_session=${cookie}` } });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: snapshot')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect((await logout(b, cookie, csrf)).status).toBe(303);
    // The stream ends on its own: the read loop finishes without an abort.
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
  });

  it('expire a session left idle for either of them, and keep one in use on both', async () => {
    const used = await signIn(a);
    const idle = await signIn(b);
    for (const url of [b, a, b]) {
      clock.now += IDLE_MS - 1_000;
      expect((await overview(url, used)).status).toBe(200);
    }
    expect((await overview(a, idle)).status).toBe(401);
    expect((await overview(b, idle)).status).toBe(401);
    clock.now += IDLE_MS;
    expect((await overview(a, used)).status).toBe(401);
  });

  it('expire a session after its absolute lifetime, however busy on both', async () => {
    const cookie = await signIn(b);
    let age = 0;
    for (const url of [a, b, a, b, a]) {
      clock.now += 50_000;
      age += 50_000;
      expect((await overview(url, cookie)).status, `at ${age} ms`).toBe(200);
    }
    clock.now += 50_000;
    expect((await overview(b, cookie)).status).toBe(401);
    expect((await overview(a, cookie)).status).toBe(401);
  });

  it('keep no session id, CSRF token or access token in Redis', async () => {
    const operator = await signIn(a);
    const viewer = await signIn(b, TEST_TOKENS.viewer);
    const operatorCsrf = await csrfOn(b, operator);
    const viewerCsrf = await csrfOn(a, viewer);
    // Work that writes to Redis: a failed login, a rotation started on a session, a bearer call.
    expect((await login(b, 'wrong-token-000000000000')).status).toBe(401);
    const started = await fetch(`${b}/api/rotations`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Cookie: `rekey_session=${operator}`,
        Origin: b,
        'X-CSRF-Token': operatorCsrf,
      },
      body: JSON.stringify({ kekName: 'pii' }),
    });
    expect(started.status).toBe(202);
    const bearer = { Authorization: `Bearer ${TEST_TOKENS.viewer}` };
    expect((await fetch(`${a}/api/overview`, { headers: bearer })).status).toBe(200);

    const secrets = {
      operatorSession: operator,
      viewerSession: viewer,
      operatorCsrf,
      viewerCsrf,
      operatorToken: TEST_TOKENS.operator,
      viewerToken: TEST_TOKENS.viewer,
    };
    const expectNoSecret = (contents: Map<string, string>) => {
      for (const [key, value] of contents) {
        for (const [name, secret] of Object.entries(secrets)) {
          expect(key.includes(secret), `${name} in key ${key}`).toBe(false);
          expect(value.includes(secret), `${name} in the value of ${key}`).toBe(false);
        }
      }
    };
    const digest = (id: string) => createHash('sha256').update(id).digest('hex');

    const signedIn = await readRedisContents(replicas.stack.prefix);
    // Not an empty scan: the sessions are there, under the digests of their ids.
    const keys = [...signedIn.keys()];
    expect(keys.some((k) => k.endsWith(digest(operator)))).toBe(true);
    expect(keys.some((k) => k.endsWith(digest(viewer)))).toBe(true);
    expectNoSecret(signedIn);

    expect((await logout(a, operator, operatorCsrf)).status).toBe(303);
    expect((await logout(a, viewer, viewerCsrf)).status).toBe(303);
    const signedOut = await readRedisContents(replicas.stack.prefix);
    const after = [...signedOut.keys()].join('\n');
    expect(after).not.toContain(digest(operator));
    expect(after).not.toContain(digest(viewer));
    expectNoSecret(signedOut);
  });

  it('count failed logins from one address together', async () => {
    // A success clears the address's earlier failures. The default limit is 5 failures per
    // address and minute: spread them over both replicas.
    await signIn(b);
    for (const url of [a, b, a, b, a]) {
      expect((await login(url, 'wrong-token-000000000000')).status).toBe(401);
    }
    for (const url of [a, b]) {
      const blocked = await login(url);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(blocked.headers.get('set-cookie')).toBeNull();
    }
  });
});
