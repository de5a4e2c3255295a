/**
 * Browser sessions, shared by every dashboard replica through Redis. The cookie holds a random
 * id; Redis holds, under the SHA-256 digest of that id, only the role, the audit label and the
 * times, with a TTL that is the idle lifetime capped by what is left of the absolute one. The
 * CSRF token is derived from the id, so nothing in Redis opens a session or forges a request.
 *
 * Keys, all under the configured prefix so that a Redis Cluster keeps them in its slot:
 *
 * - `<prefix>:dashboard:session:<sha256(id) hex>`: hash of `role`, `actor`, `createdAt`,
 *   `lastSeenAt` (epoch ms), expiring with the session;
 * - `<prefix>:dashboard:sessions`: sorted set of those digests scored by their expiry time, the
 *   index that bounds how many sessions Redis holds.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

import type { RedisConnection } from '@rekey/worker/engine';

import { REDIS_NOW } from './redis-clock.ts';
import { withinDeadline } from './redis-deadline.ts';
import type { Role } from './tokens.ts';

/** One logged-in browser. */
export interface Session {
  /** The bearer secret of the cookie: held in memory by the request, never stored. */
  readonly id: string;
  readonly role: Role;
  /** Sent back with every state-changing request (header `X-CSRF-Token` or form `_csrf`). */
  readonly csrfToken: string;
  /** A short label for the audit trail, e.g. `operator@3f9a`: never the token. */
  readonly actor: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

/** The session store the dashboard signs browsers in with. */
export interface SessionStore {
  /** Idle lifetime, for the cookie's Max-Age. */
  readonly idleMs: number;
  /**
   * Creates a session with a fresh random id.
   *
   * @throws {StoreUnavailableError} when the store cannot be reached.
   */
  create(role: Role): Promise<Session>;
  /**
   * The live session of an id, its idle time restarted; `undefined` when unknown or expired.
   *
   * @throws {StoreUnavailableError} when the store cannot be reached.
   */
  get(id: string): Promise<Session | undefined>;
  /**
   * Ends a session for every replica.
   *
   * @throws {StoreUnavailableError} when the store cannot be reached.
   */
  delete(id: string): Promise<void>;
}

/** Expiry rules of the session store. */
export interface SessionOptions {
  /** A session unused this long expires (default 30 minutes). */
  readonly idleMs?: number;
  /** A session expires this long after login whatever its use (default 12 hours). */
  readonly absoluteMs?: number;
  /** The most sessions kept; the one nearest its expiry goes first (default 10,000). */
  readonly maxSessions?: number;
  /** How long a Redis call may take before the request fails closed (default 2 s). */
  readonly timeoutMs?: number;
  /** The clock, for tests; by default the Redis server's, the same for every replica. */
  readonly now?: () => number;
}

/** What a session id looks like: 32 random bytes, base64url. Anything else is not looked up. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** The label the CSRF token is derived under; a new label would invalidate every form. */
const CSRF_LABEL = 'rekey-dashboard csrf v1';

// KEYS: index, session. ARGV: now, idle, absolute, max, digest, role, actor, session key prefix.
// Drops expired index entries, then the sessions nearest their expiry while the index is full.
const CREATE = `${REDIS_NOW}
local idle, absolute, max = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local extra = redis.call('ZCARD', KEYS[1]) - max + 1
if extra > 0 then
  local evicted = redis.call('ZPOPMIN', KEYS[1], extra)
  for i = 1, #evicted, 2 do redis.call('DEL', ARGV[8] .. evicted[i]) end
end
local ttl = math.min(idle, absolute)
redis.call('HSET', KEYS[2], 'role', ARGV[6], 'actor', ARGV[7], 'createdAt', now, 'lastSeenAt', now)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[5])
return now
`;

// KEYS: index, session. ARGV: now, idle, absolute, digest.
// Answers {role, actor, createdAt, lastSeenAt} of a live session, touched, or false.
const TOUCH = `${REDIS_NOW}
local idle, absolute = tonumber(ARGV[2]), tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[2], 'role', 'actor', 'createdAt', 'lastSeenAt')
if not s[1] then
  redis.call('ZREM', KEYS[1], ARGV[4])
  return false
end
local created, last = tonumber(s[3]), tonumber(s[4])
local ttl = 0
if created and last and now - last < idle then ttl = math.min(idle, created + absolute - now) end
if ttl <= 0 then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], ARGV[4])
  return false
end
redis.call('HSET', KEYS[2], 'lastSeenAt', now)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[4])
return {s[1], s[2], s[3], tostring(now)}
`;

// KEYS: index, session. ARGV: now (unused), digest.
const DELETE = `
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[2])
return 1
`;

/**
 * Sessions in Redis, shared by every dashboard process on the same Redis and prefix.
 *
 * @example
 * const sessions = new RedisSessionStore(redis, config.redis.prefix);
 * const session = await sessions.create('viewer');
 * (await sessions.get(session.id))?.role; // 'viewer', on any replica
 */
export class RedisSessionStore implements SessionStore {
  readonly idleMs: number;
  readonly #redis: RedisConnection;
  readonly #index: string;
  readonly #sessionPrefix: string;
  readonly #absoluteMs: number;
  readonly #max: number;
  readonly #timeoutMs: number;
  readonly #now: (() => number) | undefined;

  constructor(redis: RedisConnection, prefix: string, options: SessionOptions = {}) {
    this.#redis = redis;
    this.#index = `${prefix}:dashboard:sessions`;
    this.#sessionPrefix = `${prefix}:dashboard:session:`;
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.#absoluteMs = options.absoluteMs ?? 12 * 3_600_000;
    this.#max = options.maxSessions ?? 10_000;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#now = options.now;
  }

  async create(role: Role): Promise<Session> {
    const id = randomBytes(32).toString('base64url');
    const actor = `${role}@${randomBytes(2).toString('hex')}`;
    const digest = sessionDigest(id);

    const createdAt = Number(
      await this.#eval(CREATE, digest, [
        this.idleMs,
        this.#absoluteMs,
        this.#max,
        digest,
        role,
        actor,
        this.#sessionPrefix,
      ]),
    );
    return { id, role, csrfToken: csrfTokenOf(id), actor, createdAt, lastSeenAt: createdAt };
  }

  async get(id: string): Promise<Session | undefined> {
    if (!SESSION_ID.test(id)) return undefined;
    const digest = sessionDigest(id);

    const found = await this.#eval(TOUCH, digest, [this.idleMs, this.#absoluteMs, digest]);
    if (!Array.isArray(found)) return undefined;
    const [role, actor, createdAt, lastSeenAt] = found as string[];
    if ((role !== 'viewer' && role !== 'operator') || actor === undefined) return undefined;
    return {
      id,
      role,
      csrfToken: csrfTokenOf(id),
      actor,
      createdAt: Number(createdAt),
      lastSeenAt: Number(lastSeenAt),
    };
  }

  async delete(id: string): Promise<void> {
    if (!SESSION_ID.test(id)) return;
    const digest = sessionDigest(id);
    await this.#eval(DELETE, digest, [digest]);
  }

  #eval(script: string, digest: string, args: (string | number)[]): Promise<unknown> {
    const now = this.#now === undefined ? '' : String(this.#now());
    return withinDeadline(this.#redis, 'session store', this.#timeoutMs, () =>
      this.#redis.eval(script, 2, this.#index, this.#sessionPrefix + digest, now, ...args),
    );
  }
}

/** The SHA-256 digest (hex) a session is stored under: the id itself never reaches Redis. */
export function sessionDigest(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/**
 * The CSRF token of a session: HMAC-SHA256 keyed with the session id over a fixed label. Every
 * replica derives the same token, and knowing it tells nothing about the id.
 */
export function csrfTokenOf(id: string): string {
  return createHmac('sha256', id).update(CSRF_LABEL, 'utf8').digest('base64url');
}
