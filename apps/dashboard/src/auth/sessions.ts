/**
 * Browser sessions: a random id in an HttpOnly cookie, and everything else (role, CSRF token,
 * expiry) in a server-side map. The access token itself never reaches the cookie.
 */
import { randomBytes } from 'node:crypto';

import type { Role } from './tokens.ts';

/** One logged-in browser. */
export interface Session {
  readonly id: string;
  readonly role: Role;
  /** Sent back with every state-changing request (header `X-CSRF-Token` or form `_csrf`). */
  readonly csrfToken: string;
  /** A short label for the audit trail, e.g. `operator@3f9a`: never the token. */
  readonly actor: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

/** Expiry rules of the session map. */
export interface SessionOptions {
  /** A session unused this long expires (default 30 minutes). */
  readonly idleMs?: number;
  /** A session expires this long after login whatever its use (default 12 hours). */
  readonly absoluteMs?: number;
  /** The most sessions kept; the least recently used go first (default 10,000). */
  readonly maxSessions?: number;
  readonly now?: () => number;
}

/** The server-side session map. */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #idleMs: number;
  readonly #absoluteMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: SessionOptions = {}) {
    this.#idleMs = options.idleMs ?? 30 * 60_000;
    this.#absoluteMs = options.absoluteMs ?? 12 * 3_600_000;
    this.#max = options.maxSessions ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Idle lifetime, for the cookie's Max-Age. */
  get idleMs(): number {
    return this.#idleMs;
  }

  /** Creates a session with fresh random id and CSRF token. */
  create(role: Role): Session {
    this.#prune();
    const now = this.#now();
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      role,
      csrfToken: randomBytes(32).toString('base64url'),
      actor: `${role}@${randomBytes(2).toString('hex')}`,
      createdAt: now,
      lastSeenAt: now,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session of an id, touched; `undefined` when unknown or expired. */
  get(id: string): Session | undefined {
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.#now();
    if (now - session.lastSeenAt > this.#idleMs || now - session.createdAt > this.#absoluteMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeenAt = now;
    // Re-insert so that map order is least recently used first.
    this.#sessions.delete(id);
    this.#sessions.set(id, session);
    return session;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [id, s] of this.#sessions) {
      if (now - s.lastSeenAt > this.#idleMs || now - s.createdAt > this.#absoluteMs) {
        this.#sessions.delete(id);
      }
    }
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
    }
  }
}
