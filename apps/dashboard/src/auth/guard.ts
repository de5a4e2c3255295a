/**
 * Who is asking, and may they: bearer tokens for the API, session cookies for the browser, the
 * 401/403 rules and the CSRF checks on state-changing requests.
 *
 * - No credentials: 401 (API) or a redirect to the login page (pages).
 * - A viewer on an operator route: 403.
 * - A state-changing request whose `Origin` is another origin: 403, whatever the credentials.
 * - A state-changing request on a session cookie without a same-origin `Origin`/`Referer` or
 *   without the session's CSRF token: 403. Bearer requests need no CSRF token: a browser never
 *   attaches a bearer token on its own.
 */
import { timingSafeEqual } from 'node:crypto';

import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';

import type { Session, SessionStore } from './sessions.ts';
import type { AccessTokens, Role } from './tokens.ts';

/** The name of the session cookie. */
export const SESSION_COOKIE = 'rekey_session';

/** The identity of a request, once authenticated. */
export interface Caller {
  readonly role: Role;
  /** The label recorded in the audit trail. */
  readonly actor: string;
  readonly via: 'bearer' | 'session';
  readonly session?: Session;
}

/** Hono variables the guard sets. */
export interface GuardVariables {
  caller: Caller | undefined;
}

type GuardEnv = { Variables: GuardVariables };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Resolves the caller from `Authorization: Bearer` or the session cookie; never rejects. When
 * the session store cannot be reached the cookie counts for nothing (the request fails closed)
 * and `onUnavailable` hears of it.
 */
export function identify(
  tokens: AccessTokens,
  sessions: SessionStore,
  onUnavailable: (error: unknown) => void = () => {},
): MiddlewareHandler<GuardEnv> {
  return async (c, next) => {
    c.set('caller', await callerOf(c, tokens, sessions, onUnavailable));
    await next();
  };
}

async function callerOf(
  c: Context,
  tokens: AccessTokens,
  sessions: SessionStore,
  onUnavailable: (error: unknown) => void,
): Promise<Caller | undefined> {
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const role = match === null ? undefined : tokens.roleOf(match[1] as string);
    // A wrong bearer token is no credential at all, even with a valid cookie beside it.
    return role === undefined ? undefined : { role, actor: `${role}:token`, via: 'bearer' };
  }
  const id = getCookie(c, SESSION_COOKIE);
  if (id === undefined) return undefined;

  let session: Session | undefined;
  try {
    session = await sessions.get(id);
  } catch (error) {
    onUnavailable(error);
    return undefined;
  }
  if (session === undefined) return undefined;
  return { role: session.role, actor: session.actor, via: 'session', session };
}

/** Options of `requireRole`. */
export interface RequireOptions {
  /** Pages redirect to the login page instead of answering 401. */
  readonly page?: boolean;
  /** The origin this dashboard is served from; by default the request URL's origin. */
  readonly publicOrigin?: string | undefined;
}

/** Lets the request through only for `role` (operators pass viewer routes), with CSRF checks. */
export function requireRole(role: Role, options: RequireOptions = {}): MiddlewareHandler<GuardEnv> {
  return async (c, next) => {
    const caller = c.get('caller');
    if (caller === undefined) {
      if (options.page === true) {
        const target = new URL(c.req.url);
        const next = encodeURIComponent(target.pathname + target.search);
        return c.redirect(`/login?next=${next}`, 303);
      }
      c.header('WWW-Authenticate', 'Bearer realm="rekey"');
      return c.json({ error: 'unauthorized' }, 401);
    }
    if (!SAFE_METHODS.has(c.req.method)) {
      const problem = await csrfProblem(c, caller, options.publicOrigin);
      if (problem !== undefined) return c.json({ error: 'forbidden', reason: problem }, 403);
    }
    if (role === 'operator' && caller.role !== 'operator') {
      return c.json({ error: 'forbidden', reason: 'operator role required' }, 403);
    }
    await next();
  };
}

/** The origin requests must come from. */
export function expectedOrigin(c: Context, publicOrigin: string | undefined): string {
  return publicOrigin ?? new URL(c.req.url).origin;
}

/** Why a state-changing request fails the CSRF rules, or `undefined` when it passes. */
async function csrfProblem(
  c: Context,
  caller: Caller,
  publicOrigin: string | undefined,
): Promise<string | undefined> {
  const expected = expectedOrigin(c, publicOrigin);
  const origin = requestOrigin(c);
  if (origin !== undefined && origin !== expected) return 'cross-origin request';
  if (caller.via === 'bearer') return undefined;

  if (origin === undefined) return 'origin missing';
  const presented = c.req.header('x-csrf-token') ?? (await formField(c, '_csrf'));
  const session = caller.session as Session;
  if (presented === undefined || !sameText(presented, session.csrfToken)) {
    return 'csrf token missing or wrong';
  }
  return undefined;
}

/** The `Origin` header, else the origin of `Referer`, else `undefined`. */
function requestOrigin(c: Context): string | undefined {
  const origin = c.req.header('origin');
  if (origin !== undefined) return origin;
  const referer = c.req.header('referer');
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return 'invalid';
  }
}

async function formField(c: Context, name: string): Promise<string | undefined> {
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return undefined;
  const body = await c.req.parseBody();
  const value = body[name];
  return typeof value === 'string' ? value : undefined;
}

/** Compares two strings in time that depends on their lengths only. */
export function sameText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length) return false;
  return timingSafeEqual(x, y);
}
