import { describe, expect, it } from 'vitest';

import { SessionStore } from './sessions.ts';

function clock(start = 1_000_000) {
  const c = { now: start, fn: () => c.now };
  return c;
}

describe('the session store', () => {
  it('creates sessions with distinct random ids and CSRF tokens', () => {
    const store = new SessionStore();
    const a = store.create('viewer');
    const b = store.create('viewer');
    expect(a.id).not.toBe(b.id);
    expect(a.csrfToken).not.toBe(b.csrfToken);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.get(a.id)?.role).toBe('viewer');
    expect(store.get('no-such-id')).toBeUndefined();
  });

  it('expires a session left idle, and keeps one in use', () => {
    const c = clock();
    const store = new SessionStore({ idleMs: 1_000, absoluteMs: 100_000, now: c.fn });
    const used = store.create('operator');
    const idle = store.create('operator');
    for (let i = 0; i < 5; i++) {
      c.now += 600;
      expect(store.get(used.id)).toBeDefined();
    }
    expect(store.get(idle.id)).toBeUndefined();
  });

  it('expires every session after its absolute lifetime, however busy', () => {
    const c = clock();
    const store = new SessionStore({ idleMs: 1_000, absoluteMs: 3_000, now: c.fn });
    const s = store.create('viewer');
    c.now += 900;
    store.get(s.id);
    c.now += 900;
    store.get(s.id);
    c.now += 900;
    expect(store.get(s.id)).toBeDefined();
    c.now += 900;
    expect(store.get(s.id)).toBeUndefined();
  });

  it('drops the least recently used session when full', () => {
    const store = new SessionStore({ maxSessions: 2 });
    const a = store.create('viewer');
    const b = store.create('viewer');
    store.get(a.id);
    const c = store.create('viewer');
    expect(store.size).toBe(2);
    expect(store.get(b.id)).toBeUndefined();
    expect(store.get(a.id)).toBeDefined();
    expect(store.get(c.id)).toBeDefined();
  });

  it('forgets a deleted session', () => {
    const store = new SessionStore();
    const s = store.create('operator');
    store.delete(s.id);
    expect(store.get(s.id)).toBeUndefined();
  });
});
