/**
 * The dashboard's access rules, route by route: no credentials, viewer and operator by bearer
 * token and by session cookie, requests from another origin, and requests without (or with a
 * wrong) CSRF token. Real Redis and a real control store underneath; the app is called in
 * process through `app.request`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDashboard, type Dashboard } from '../../apps/dashboard/src/app.ts';
import { AccessTokens } from '../../apps/dashboard/src/auth/tokens.ts';
import { TEST_TOKENS } from '../../apps/dashboard/src/testing/serve-test-stack.ts';
import { openTestStack, type TestStack } from '../../apps/dashboard/src/testing/test-stack.ts';

const ORIGIN = 'http://localhost';
const EVIL = 'http://evil.example';

let stack: TestStack;
let dashboard: Dashboard;
let runId: string;
const sessions: Record<'viewer' | 'operator', { cookie: string; csrf: string }> = {
  viewer: { cookie: '', csrf: '' },
  operator: { cookie: '', csrf: '' },
};

async function login(token: string): Promise<{ cookie: string; csrf: string }> {
  const res = await dashboard.app.request('/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });
  expect(res.status).toBe(303);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = /rekey_session=([^;]+)/.exec(setCookie)?.[1] ?? '';
  const page = await dashboard.app.request('/', { headers: { Cookie: `rekey_session=${cookie}` } });
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  return { cookie, csrf };
}

beforeAll(async () => {
  stack = await openTestStack({
    databases: [{ name: 'orders', kind: 'memory' }],
    kekNames: ['pii', 'billing'],
    deks: 20,
    auth: { loginLimiter: { perAddress: 1000, global: 1000 } },
  });
  dashboard = createDashboard({
    backend: stack.backend,
    tokens: new AccessTokens(TEST_TOKENS),
    heartbeatMs: 60_000,
  });
  // A run that stays in `preparing`: no worker runs in this test.
  const { run } = await stack.control.startRun({
    kekName: 'pii',
    databases: ['orders'],
    trigger: 'test',
  });
  runId = run.id;
  sessions.viewer = await login(TEST_TOKENS.viewer);
  sessions.operator = await login(TEST_TOKENS.operator);
});

afterAll(async () => {
  dashboard?.close();
  await stack?.close();
});

type Who =
  | 'nobody'
  | 'viewer-bearer'
  | 'operator-bearer'
  | 'viewer-session'
  | 'operator-session'
  | 'operator-session-cross-origin'
  | 'operator-bearer-cross-origin'
  | 'operator-session-no-csrf'
  | 'operator-session-wrong-csrf'
  | 'operator-session-no-origin';

const WHO: readonly Who[] = [
  'nobody',
  'viewer-bearer',
  'operator-bearer',
  'viewer-session',
  'operator-session',
  'operator-session-cross-origin',
  'operator-bearer-cross-origin',
  'operator-session-no-csrf',
  'operator-session-wrong-csrf',
  'operator-session-no-origin',
];

function headersFor(who: Who, method: string): Record<string, string> {
  const h: Record<string, string> = {};
  const unsafe = method !== 'GET';
  if (unsafe) h['Content-Type'] = 'application/json';
  const bearer = (role: 'viewer' | 'operator') => {
    h.Authorization = `Bearer ${TEST_TOKENS[role]}`;
  };
  const session = (role: 'viewer' | 'operator', origin: string | null, csrf: string | null) => {
    h.Cookie = `rekey_session=${sessions[role].cookie}`;
    if (unsafe && origin !== null) h.Origin = origin;
    if (unsafe && csrf !== null) h['X-CSRF-Token'] = csrf;
  };
  switch (who) {
    case 'nobody':
      if (unsafe) h.Origin = ORIGIN;
      break;
    case 'viewer-bearer':
      bearer('viewer');
      break;
    case 'operator-bearer':
      bearer('operator');
      break;
    case 'operator-bearer-cross-origin':
      bearer('operator');
      if (unsafe) h.Origin = EVIL;
      break;
    case 'viewer-session':
      session('viewer', ORIGIN, sessions.viewer.csrf);
      break;
    case 'operator-session':
      session('operator', ORIGIN, sessions.operator.csrf);
      break;
    case 'operator-session-cross-origin':
      session('operator', EVIL, sessions.operator.csrf);
      break;
    case 'operator-session-no-csrf':
      session('operator', ORIGIN, null);
      break;
    case 'operator-session-wrong-csrf':
      session('operator', ORIGIN, `${sessions.operator.csrf.slice(0, -2)}xx`);
      break;
    case 'operator-session-no-origin':
      session('operator', null, sessions.operator.csrf);
      break;
  }
  return h;
}

interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: () => string;
  readonly kind: 'page' | 'api' | 'operator' | 'board-write';
}

const ROUTES: readonly Route[] = [
  { method: 'GET', path: () => '/', kind: 'page' },
  { method: 'GET', path: () => `/runs/${runId}`, kind: 'page' },
  { method: 'GET', path: () => '/queues', kind: 'page' },
  { method: 'GET', path: () => '/queues/', kind: 'page' },
  { method: 'GET', path: () => '/queues/queue/control', kind: 'page' },
  { method: 'GET', path: () => '/queues/api/queues', kind: 'api' },
  { method: 'GET', path: () => '/metrics', kind: 'api' },
  { method: 'GET', path: () => '/api/overview', kind: 'api' },
  { method: 'GET', path: () => '/api/rotations', kind: 'api' },
  { method: 'GET', path: () => `/api/rotations/${runId}`, kind: 'api' },
  { method: 'GET', path: () => '/api/events', kind: 'api' },
  { method: 'GET', path: () => `/api/events?run=${runId}`, kind: 'api' },
  { method: 'POST', path: () => '/api/rotations', kind: 'operator' },
  { method: 'POST', path: () => `/api/rotations/${runId}/pause`, kind: 'operator' },
  { method: 'POST', path: () => `/api/rotations/${runId}/resume`, kind: 'operator' },
  { method: 'POST', path: () => `/api/rotations/${runId}/cancel`, kind: 'operator' },
  { method: 'POST', path: () => `/api/rotations/${runId}/retry`, kind: 'operator' },
  { method: 'POST', path: () => '/queues/api/queues/control/pause', kind: 'board-write' },
  { method: 'POST', path: () => '/queues/api/queues/control/retry/failed', kind: 'board-write' },
];

/** What each caller must get on each kind of route. */
function expected(route: Route, who: Who): number | 'ok' | 'login' {
  if (who === 'nobody') return route.kind === 'page' ? 'login' : 401;
  if (route.method === 'GET') return 200;
  const crossOrigin = who.endsWith('cross-origin');
  const badCsrf =
    who.endsWith('no-csrf') || who.endsWith('wrong-csrf') || who.endsWith('no-origin');
  if (crossOrigin || badCsrf) return 403;
  if (route.kind === 'board-write') return 403;
  if (who.startsWith('viewer')) return 403;
  return 'ok';
}

describe('the access matrix of every route', () => {
  for (const route of ROUTES) {
    for (const who of WHO) {
      if (route.method === 'GET' && who.includes('-session-') && who !== 'operator-session') {
        continue; // CSRF variants only differ on state-changing requests
      }
      it(`answers ${route.method} ${route.path().replace('undefined', ':id')} for ${who} as the rules say`, async () => {
        const path = route.path();
        const init: RequestInit = { method: route.method, headers: headersFor(who, route.method) };
        if (route.method === 'POST') init.body = JSON.stringify({ kekName: 'pii' });
        const res = await dashboard.app.request(path, init);
        await res.body?.cancel();
        const want = expected(route, who);
        const label = `${route.method} ${path} as ${who}: ${res.status}`;
        if (want === 'login') {
          expect(res.status, label).toBe(303);
          expect(res.headers.get('location'), label).toMatch(/^\/login\?next=/);
        } else if (want === 'ok') {
          expect(res.status, label).not.toBe(401);
          expect(res.status, label).not.toBe(403);
          expect(res.status, label).toBeLessThan(500);
        } else {
          expect(res.status, label).toBe(want);
        }
      });
    }
  }

  it('serves /healthz without credentials and without naming any server', async () => {
    const res = await dashboard.app.request('/healthz');
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ status: 'ok', redis: true, control: true });
    expect(body).not.toMatch(/redis:\/\/|postgres:\/\/|127\.0\.0\.1/);
  });

  it('answers 401 with a Bearer challenge for a wrong token, even beside a valid cookie', async () => {
    const res = await dashboard.app.request('/api/overview', {
      headers: {
        Authorization: 'Bearer not-the-token-at-all-000000',
        Cookie: `rekey_session=${sessions.operator.cookie}`,
      },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('refuses a cross-origin login and never sets a cookie for it', async () => {
    const res = await dashboard.app.request('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: EVIL },
      body: new URLSearchParams({ token: TEST_TOKENS.operator }).toString(),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('sessions and headers', () => {
  it('sets an HttpOnly SameSite=Strict cookie holding a random id, never the token', async () => {
    const res = await dashboard.app.request('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
      body: new URLSearchParams({ token: TEST_TOKENS.operator, next: '/runs/x' }).toString(),
    });
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toContain(TEST_TOKENS.operator);
    const id = /rekey_session=([^;]+)/.exec(cookie)?.[1] ?? '';
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.headers.get('location')).toBe('/runs/x');
  });

  it('only returns to local paths after login', async () => {
    for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const res = await dashboard.app.request('/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
        body: new URLSearchParams({ token: TEST_TOKENS.viewer, next }).toString(),
      });
      expect(res.headers.get('location')).toBe('/');
    }
  });

  it('ends a session on logout: the cookie no longer opens anything', async () => {
    const s = await login(TEST_TOKENS.viewer);
    const out = await dashboard.app.request('/logout', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: `rekey_session=${s.cookie}`,
        Origin: ORIGIN,
      },
      body: new URLSearchParams({ _csrf: s.csrf }).toString(),
    });
    expect(out.status).toBe(303);
    const after = await dashboard.app.request('/api/overview', {
      headers: { Cookie: `rekey_session=${s.cookie}` },
    });
    expect(after.status).toBe(401);
  });

  it('sends the strict security headers on pages, API answers, errors and assets', async () => {
    const auth = { Authorization: `Bearer ${TEST_TOKENS.viewer}` };
    for (const path of [
      '/login',
      '/api/overview',
      '/api/nope',
      '/static/dashboard.js',
      '/healthz',
    ]) {
      const res = await dashboard.app.request(path, { headers: auth });
      await res.body?.cancel();
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('same-origin');
    }
  });

  it('offers the rotate and run actions to operators only', async () => {
    const page = async (role: 'viewer' | 'operator', path: string) =>
      (
        await dashboard.app.request(path, {
          headers: { Cookie: `rekey_session=${sessions[role].cookie}` },
        })
      ).text();
    expect(await page('operator', '/')).toContain('id="start-form"');
    expect(await page('viewer', '/')).not.toContain('id="start-form"');
    expect(await page('operator', `/runs/${runId}`)).toContain('id="run-actions"');
    expect(await page('viewer', `/runs/${runId}`)).not.toContain('id="run-actions"');
    expect(await page('viewer', '/')).toContain('data-role="viewer"');
  });

  it('serves pages without a single inline script', async () => {
    const res = await dashboard.app.request('/', {
      headers: { Cookie: `rekey_session=${sessions.operator.cookie}` },
    });
    const page = await res.text();
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/static\//);
      expect(body?.trim()).toBe('');
    }
    expect(page).not.toMatch(/\son[a-z]+="/);
  });

  it('puts no token, connection string or key bytes in any answer', async () => {
    const auth = { Authorization: `Bearer ${TEST_TOKENS.operator}` };
    const bodies: string[] = [];
    for (const path of ['/api/overview', '/api/rotations', `/api/rotations/${runId}`, '/metrics']) {
      bodies.push(await (await dashboard.app.request(path, { headers: auth })).text());
    }
    bodies.push(
      await (
        await dashboard.app.request('/', {
          headers: { Cookie: `rekey_session=${sessions.operator.cookie}` },
        })
      ).text(),
    );
    for (const body of bodies) {
      expect(body).not.toContain(TEST_TOKENS.operator);
      expect(body).not.toContain(TEST_TOKENS.viewer);
      expect(body).not.toMatch(/redis:\/\/|postgres:\/\/|wrapped|"bytes"/);
    }
  });
});

describe('failed logins', () => {
  it('are rate limited per address with 429 and Retry-After, and a good token waits too', async () => {
    const limited = createDashboard({
      backend: await stack.replica({ loginLimiter: { perAddress: 3, global: 100 } }),
      tokens: new AccessTokens(TEST_TOKENS),
      clientAddress: () => '203.0.113.9',
    });
    const attempt = (token: string) =>
      limited.app.request('/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
        body: new URLSearchParams({ token }).toString(),
      });
    for (let i = 0; i < 3; i++)
      expect((await attempt('wrong-token-000000000000')).status).toBe(401);
    const blocked = await attempt(TEST_TOKENS.operator);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.headers.get('set-cookie')).toBeNull();
    limited.close();
  });
});

describe('operator actions', () => {
  it('start, pause, resume, cancel and retry a run, each audited with the caller', async () => {
    const { cookie, csrf } = sessions.operator;
    const post = (path: string, body: unknown = {}) =>
      dashboard.app.request(path, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Cookie: `rekey_session=${cookie}`,
          Origin: ORIGIN,
          'X-CSRF-Token': csrf,
        },
        body: JSON.stringify(body),
      });
    const unknown = await post('/api/rotations', { kekName: 'nope' });
    expect(unknown.status).toBe(400);

    // The matrix above plays with the pii run: this test rotates billing, untouched so far.
    const started = await post('/api/rotations', { kekName: 'billing' });
    expect(started.status).toBe(202);
    const id = ((await started.json()) as { run: { id: string } }).run.id;
    const paused = await post(`/api/rotations/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(((await paused.json()) as { run: { paused: boolean } }).run.paused).toBe(true);
    expect((await stack.control.getRun(id))?.paused).toBe(true);
    expect((await post(`/api/rotations/${id}/pause`)).status).toBe(409);
    expect((await post(`/api/rotations/${id}/resume`)).status).toBe(200);
    expect((await stack.control.getRun(id))?.paused).toBe(false);
    expect((await post(`/api/rotations/${id}/resume`)).status).toBe(409);
    const cancelled = await post(`/api/rotations/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(
      ((await cancelled.json()) as { run: { phase: string; error: string } }).run,
    ).toMatchObject({
      phase: 'failed',
      error: 'cancelled',
    });
    expect((await post(`/api/rotations/${id}/cancel`)).status).toBe(409);
    // Cancelled before it prepared a target: the engine has nothing to retry.
    expect((await post(`/api/rotations/${id}/retry`)).status).toBe(409);
    expect((await post('/api/rotations/00000000-0000-4000-8000-000000000000/pause')).status).toBe(
      404,
    );

    const audit = await stack.control.listAudit({ runId: id, limit: 50 });
    const actions = audit.map((a) => a.action);
    expect(actions).toEqual(['run.cancelled', 'run.unpaused', 'run.paused', 'run.requested']);
    const actors = new Set(audit.map((a) => a.actor));
    expect(actors.size).toBe(1);
    expect([...actors][0]).toMatch(/^operator@[0-9a-f]{4}$/);

    // A run with a target that failed is reopened by retry, and the retry is on record.
    const target = await stack.provider.primary('billing');
    const { run: targeted } = await stack.control.startRun({
      kekName: 'billing',
      targetRef: target,
      databases: ['orders'],
      trigger: 'test',
    });
    expect((await post(`/api/rotations/${targeted.id}/cancel`)).status).toBe(200);
    const retried = await post(`/api/rotations/${targeted.id}/retry`);
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { run: { id: string; phase: string } }).run).toMatchObject({
      id: targeted.id,
      phase: 'preparing',
    });
    const retryAudit = await stack.control.listAudit({ runId: targeted.id, limit: 10 });
    expect(retryAudit[0]?.detail.trigger).toBe(`retry:${targeted.id}`);
  });
});
