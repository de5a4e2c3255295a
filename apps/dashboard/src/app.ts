/**
 * The dashboard as one Hono app, the same for the Node and the Deno entry: pages, the JSON API,
 * the live event stream, Prometheus metrics and the mounted queue board, behind the token and
 * session rules of `auth/guard.ts`.
 */
import { hasErrorCode } from '@rekey/crypto-core';
import { type Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';

import {
  type Caller,
  expectedOrigin,
  type GuardVariables,
  identify,
  requireRole,
  SESSION_COOKIE,
} from './auth/guard.ts';
import type { LoginAttempt, LoginLimiter } from './auth/login-limiter.ts';
import type { Session, SessionStore } from './auth/sessions.ts';
import type { AccessTokens } from './auth/tokens.ts';
import type { DashboardBackend } from './dashboard-backend.ts';
import { eventStream } from './event-stream.ts';
import { LiveHub, type LiveHubOptions } from './live-hub.ts';
import { renderMetrics } from './metrics.ts';
import { loadOverview } from './overview.ts';
import { loginPage } from './pages/login-page.ts';
import { notFoundPage } from './pages/not-found-page.ts';
import { overviewPage } from './pages/overview-page.ts';
import { runPage } from './pages/run-page.ts';
import { QUEUE_BOARD_PATH, queueBoard } from './queue-board.ts';
import { ActionError, applyRunAction, type RunAction, startRotation } from './run-actions.ts';
import { loadRunSummary, loadRunView } from './run-view.ts';
import { securityHeaders } from './security-headers.ts';
import { loadAssets, serveAsset } from './static-assets.ts';

/** How the dashboard is put together. */
export interface DashboardOptions {
  readonly backend: DashboardBackend;
  readonly tokens: AccessTokens;
  /** By default the backend's, shared through Redis with every replica. */
  readonly sessions?: SessionStore;
  /** By default the backend's, shared through Redis with every replica. */
  readonly loginLimiter?: LoginLimiter;
  readonly hub?: LiveHubOptions;
  /** Comment lines on idle event streams (default 15 s). */
  readonly heartbeatMs?: number;
  /** The origin browsers reach the dashboard at, when a proxy changes the Host. */
  readonly publicOrigin?: string;
  /** Mark the session cookie `Secure`; by default when the request came over https. */
  readonly secureCookies?: boolean;
  /** The client's address for the login rate limit (the runtime's connection info). */
  readonly clientAddress?: (c: Context) => string;
  /** One structured line per event that matters to an operator. */
  readonly log?: (entry: Record<string, unknown>) => void;
}

/** The app and what to stop when shutting down. */
export interface Dashboard {
  readonly app: Hono<{ Variables: GuardVariables }>;
  readonly hub: LiveHub;
  close(): void;
}

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ACTIONS: readonly RunAction[] = ['pause', 'resume', 'cancel', 'retry'];

/** Builds the dashboard app over a backend. */
export function createDashboard(options: DashboardOptions): Dashboard {
  const { backend, tokens } = options;
  const sessions = options.sessions ?? backend.sessions;
  const limiter = options.loginLimiter ?? backend.loginLimiter;
  const hub = new LiveHub(backend, options.hub);
  const assets = loadAssets();
  const log = options.log ?? (() => {});
  const clientAddress = options.clientAddress ?? (() => 'unknown');
  const guard = { publicOrigin: options.publicOrigin };
  const viewerApi = requireRole('viewer', guard);
  const operatorApi = requireRole('operator', guard);
  const viewerPage = requireRole('viewer', { ...guard, page: true });
  // Fail closed: no session, no login. The line names the operation and the reason, which are
  // ours (`StoreUnavailableError`), never a session id, a token or the Redis error's text.
  const unavailable = (operation: string, error: unknown) =>
    log({
      level: 'error',
      event: 'auth.unavailable',
      operation,
      reason: hasErrorCode(error, 'STORE_UNAVAILABLE') ? (error as Error).message : 'error',
    });
  const audit = (actor: string, action: string, detail: Record<string, string | number>) =>
    backend.control
      .audit({ actor, action, kekName: null, kekRef: null, runId: null, detail })
      .catch(() => {});

  // Not strict: `/queues/` is bull-board's entry page as well as `/queues`.
  const app = new Hono<{ Variables: GuardVariables }>({ strict: false });
  app.use('*', securityHeaders(QUEUE_BOARD_PATH));
  app.use(
    '*',
    identify(tokens, sessions, (error) => unavailable('session.get', error)),
  );

  app.onError((error, c) => {
    log({ level: 'error', event: 'http.error', path: c.req.path, name: error.name });
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: 'not found' }, 404));

  app.get('/healthz', async (c) => {
    const up = await backend.ping();
    const ok = up.redis && up.control;
    return c.json({ status: ok ? 'ok' : 'degraded', ...up }, ok ? 200 : 503);
  });

  app.get('/static/:name', (c) => serveAsset(assets, c));

  // Sign in and out.
  app.get('/login', (c) => c.html(loginPage(safeNext(c.req.query('next')), undefined)));
  app.post('/login', async (c) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== expectedOrigin(c, options.publicOrigin)) {
      return c.json({ error: 'forbidden', reason: 'cross-origin request' }, 403);
    }
    const address = clientAddress(c);
    const body = await c.req.parseBody();
    const next = safeNext(typeof body.next === 'string' ? body.next : undefined);
    const down = () =>
      c.html(loginPage(next, 'Signing in is unavailable right now. Try again shortly.'), 503);

    // The attempt counts as a failure from here on, unless the token turns out good.
    let attempt: LoginAttempt;
    try {
      attempt = await limiter.begin(address);
    } catch (error) {
      unavailable('login', error);
      return down();
    }
    if (attempt.retryAfterMs > 0) {
      c.header('Retry-After', String(Math.ceil(attempt.retryAfterMs / 1000)));
      return c.html(loginPage(next, 'Too many failed attempts. Wait a minute and try again.'), 429);
    }
    const role = typeof body.token === 'string' ? tokens.roleOf(body.token) : undefined;
    if (role === undefined) {
      log({ level: 'warn', event: 'login.failed' });
      return c.html(loginPage(next, 'That token is not valid.'), 401);
    }

    let session: Session;
    try {
      session = await sessions.create(role);
    } catch (error) {
      unavailable('login', error);
      return down();
    }
    // A success that cannot be uncounted costs the address one attempt, nothing more.
    await attempt.succeeded().catch((error: unknown) => unavailable('login', error));
    setCookie(c, SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: options.secureCookies ?? new URL(c.req.url).protocol === 'https:',
      maxAge: Math.floor(sessions.idleMs / 1000),
    });
    await audit(session.actor, 'dashboard.login', { role });
    log({ level: 'info', event: 'login', actor: session.actor, role });
    return c.redirect(next, 303);
  });
  app.post('/logout', viewerApi, async (c) => {
    const caller = c.get('caller');
    if (caller?.session !== undefined) {
      try {
        await sessions.delete(caller.session.id);
      } catch (error) {
        // The session lives on: say so, and keep the cookie so that the user can try again.
        unavailable('logout', error);
        return c.json(
          { error: 'service unavailable', reason: 'logout did not reach the store' },
          503,
        );
      }
      await audit(caller.actor, 'dashboard.logout', {});
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });

  // Pages.
  app.get('/', viewerPage, (c) =>
    c.html(
      overviewPage(
        signedIn(c),
        backend.keks.map((k) => k.name),
      ),
    ),
  );
  app.get('/runs/:id', viewerPage, async (c) => {
    const id = c.req.param('id');
    if (!RUN_ID.test(id) || (await backend.control.getRun(id)) === undefined) {
      return c.html(notFoundPage(signedIn(c)), 404);
    }
    return c.html(runPage(signedIn(c), id));
  });

  // Raw queues, read-only. The UI page redirects to the login page; its API answers 401.
  const board = queueBoard(backend.queues);
  app.use(QUEUE_BOARD_PATH, viewerPage);
  app.use(`${QUEUE_BOARD_PATH}/*`, async (c, next) => {
    const ui = !c.req.path.startsWith(`${QUEUE_BOARD_PATH}/api/`);
    return (ui && c.req.method === 'GET' ? viewerPage : viewerApi)(c, next);
  });
  app.use(`${QUEUE_BOARD_PATH}/*`, async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      return c.json({ error: 'forbidden', reason: 'the queue board is read-only' }, 403);
    }
    await next();
  });
  app.route(QUEUE_BOARD_PATH, board);

  // Metrics and API.
  app.get('/metrics', viewerApi, async (c) => {
    const [view, up] = await Promise.all([loadOverview(backend, hub.throughput), backend.ping()]);
    return c.text(renderMetrics(view, up), 200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    });
  });
  app.get('/api/overview', viewerApi, async (c) =>
    c.json(await loadOverview(backend, hub.throughput)),
  );
  app.get('/api/rotations', viewerApi, async (c) => {
    const kekName = c.req.query('kek');
    const limit = Math.min(200, Math.max(1, Number(c.req.query('limit') ?? 50) || 50));
    const runs = await backend.control.listRuns({
      limit,
      ...(kekName === undefined ? {} : { kekName }),
      ...(c.req.query('active') === 'true' ? { activeOnly: true } : {}),
    });
    const summaries = await Promise.all(
      runs.map((r) => loadRunSummary(backend, hub.throughput, r)),
    );
    return c.json({ runs: summaries });
  });
  app.get('/api/rotations/:id', viewerApi, async (c) => {
    const id = c.req.param('id');
    const view = RUN_ID.test(id) ? await loadRunView(backend, hub.throughput, id) : undefined;
    return view === undefined ? c.json({ error: 'run not found' }, 404) : c.json(view);
  });
  app.post('/api/rotations', operatorApi, async (c) => {
    const caller = signedIn(c);
    const form = isForm(c);
    const body = form ? await c.req.parseBody() : await c.req.json().catch(() => ({}));
    const kekName = (body as { kekName?: unknown }).kekName;
    if (typeof kekName !== 'string' || kekName === '') {
      return c.json({ error: '"kekName" expected a configured KEK name' }, 400);
    }
    const result = await actionResponse(c, () => startRotation(backend, kekName, caller.actor));
    if (result instanceof Response) return result;
    log({
      level: 'info',
      event: 'rotation.requested',
      actor: caller.actor,
      kekName,
      runId: result.run.id,
      joined: result.joined === true,
    });
    await hub.poke(result.run.id);
    if (form) return c.redirect(`/runs/${result.run.id}`, 303);
    const summary = await loadRunSummary(backend, hub.throughput, result.run);
    return c.json(
      { run: summary, joined: result.joined === true },
      result.joined === true ? 200 : 202,
    );
  });
  app.post('/api/rotations/:id/:action', operatorApi, async (c) => {
    const caller = signedIn(c);
    const id = c.req.param('id');
    const action = c.req.param('action') as RunAction;
    if (!ACTIONS.includes(action)) return c.json({ error: 'not found' }, 404);
    if (!RUN_ID.test(id)) return c.json({ error: 'run not found' }, 404);
    const result = await actionResponse(c, () => applyRunAction(backend, id, action, caller.actor));
    if (result instanceof Response) return result;
    log({ level: 'info', event: `run.${action}`, actor: caller.actor, runId: id });
    await hub.poke(result.run.id);
    if (isForm(c)) return c.redirect(`/runs/${result.run.id}`, 303);
    const summary = await loadRunSummary(backend, hub.throughput, result.run);
    return c.json({
      run: summary,
      ...(result.joined === undefined ? {} : { joined: result.joined }),
    });
  });
  app.get('/api/events', viewerApi, (c) =>
    eventStream(c, hub, {
      heartbeatMs: options.heartbeatMs ?? 15_000,
      stillValid: async () => {
        const caller = c.get('caller');
        if (caller?.session === undefined) return true;
        try {
          return (await sessions.get(caller.session.id)) !== undefined;
        } catch (error) {
          unavailable('session.get', error);
          return false;
        }
      },
    }),
  );

  return { app, hub, close: () => hub.close() };
}

/** The caller of a route behind `requireRole`, which always sets one. */
function signedIn(c: Context<{ Variables: GuardVariables }>): Caller {
  const caller = c.get('caller');
  if (caller === undefined) throw new Error('route reached without a caller');
  return caller;
}

function isForm(c: Context): boolean {
  return (c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded');
}

async function actionResponse<T>(c: Context, run: () => Promise<T>): Promise<T | Response> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ActionError) return c.json({ error: error.message }, error.status);
    throw error;
  }
}

/** A same-site path to return to after sign-in; anything else goes to the overview. */
function safeNext(next: string | undefined): string {
  if (next === undefined || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) {
    return '/';
  }
  return next;
}
