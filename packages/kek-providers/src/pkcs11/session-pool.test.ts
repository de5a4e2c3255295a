import { KekUnavailableError } from '@rekey/crypto-core';
import { describe, expect, it } from 'vitest';

import { SessionPool } from './session-pool.ts';

/** Sessions are plain numbered records here: the pool only lends them, it never looks inside. */
interface FakeSession {
  readonly id: number;
  inUse: boolean;
  closed: boolean;
}

function makePool(size: number, openFails = false) {
  const sessions: FakeSession[] = [];
  const pool = new SessionPool<FakeSession>({
    size,
    open: () => {
      if (openFails) throw new KekUnavailableError('pkcs11 open session failed: CKR_SESSION_COUNT');
      const session = { id: sessions.length, inUse: false, closed: false };
      sessions.push(session);
      return session;
    },
    close: (session) => {
      session.closed = true;
    },
    isFatal: (error) => error instanceof KekUnavailableError,
  });
  return { pool, sessions };
}

/** An operation that holds its session across a few turns of the event loop. */
async function exclusive(session: FakeSession, seen: number[]): Promise<number> {
  if (session.inUse) throw new Error(`session ${session.id} shared by two calls`);
  session.inUse = true;
  await new Promise((resolve) => setTimeout(resolve, 1));
  await Promise.resolve();
  session.inUse = false;
  seen.push(session.id);
  return session.id;
}

describe('SessionPool', () => {
  it('never lends one session to two calls at once and opens no more than its size', async () => {
    const { pool, sessions } = makePool(3);
    const seen: number[] = [];

    const ids = await Promise.all(
      Array.from({ length: 50 }, () => pool.use((s) => exclusive(s, seen))),
    );

    expect(ids).toHaveLength(50);
    expect(sessions).toHaveLength(3);
    expect(new Set(seen)).toEqual(new Set([0, 1, 2]));
    expect(pool.openCount).toBe(3);
    expect(pool.waitingCount).toBe(0);
  });

  it('serves waiting calls first in, first out', async () => {
    const { pool } = makePool(1);
    const order: number[] = [];

    await Promise.all(
      [0, 1, 2, 3, 4].map((n) =>
        pool.use(async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          order.push(n);
        }),
      ),
    );

    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('drops a session after a fatal error and gives the waiting call a fresh one', async () => {
    const { pool, sessions } = makePool(1);

    const failing = pool.use(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      throw new KekUnavailableError('pkcs11 encrypt failed: CKR_SESSION_HANDLE_INVALID');
    });
    const waiting = pool.use(async (s) => s.id);

    await expect(failing).rejects.toThrow('CKR_SESSION_HANDLE_INVALID');
    expect(await waiting).toBe(1);
    expect(sessions[0]?.closed).toBe(true);
    expect(pool.openCount).toBe(1);
  });

  it('keeps a session after an ordinary error, such as a failed tag check', async () => {
    const { pool, sessions } = makePool(1);

    await expect(
      pool.use(() => {
        throw new Error('decryption failed');
      }),
    ).rejects.toThrow('decryption failed');

    expect(await pool.use(async (s) => s.id)).toBe(0);
    expect(sessions).toHaveLength(1);
  });

  it('passes on a failure to open a session without leaking its place', async () => {
    const { pool } = makePool(1, true);

    await expect(pool.use(async () => 1)).rejects.toThrow('CKR_SESSION_COUNT');
    await expect(pool.use(async () => 1)).rejects.toThrow('CKR_SESSION_COUNT');
    expect(pool.openCount).toBe(0);
  });

  it('closes only after borrowed sessions come back, failing queued calls', async () => {
    const { pool, sessions } = makePool(1);
    let release: () => void = () => {};
    const borrowed = pool.use(
      () =>
        new Promise<string>((resolve) => {
          release = () => resolve('done');
        }),
    );
    const queued = pool.use(async () => 'queued');
    await Promise.resolve();

    const closing = pool.close();
    await expect(queued).rejects.toThrow('pkcs11 provider is closed');
    expect(sessions[0]?.closed).toBe(false);
    release();

    expect(await borrowed).toBe('done');
    await closing;
    expect(sessions[0]?.closed).toBe(true);
    await expect(pool.use(async () => 1)).rejects.toBeInstanceOf(KekUnavailableError);
  });

  it('closes every idle session on dropIdle so the next call opens a fresh one', async () => {
    const { pool, sessions } = makePool(2);
    await Promise.all([pool.use(async () => 1), pool.use(async () => 2)]);

    pool.dropIdle();

    expect(sessions.every((s) => s.closed)).toBe(true);
    expect(await pool.use(async (s) => s.id)).toBe(2);
  });
});
