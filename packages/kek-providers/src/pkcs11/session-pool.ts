/**
 * A fixed-size pool of PKCS#11 sessions. A session runs one cryptographic operation at a time
 * (`C_EncryptInit` then `C_Encrypt` on the same session), so concurrent calls must never share
 * one: each call borrows a session for the whole operation and gives it back. Callers beyond
 * the pool size wait in a first-in, first-out queue.
 */
import { KekUnavailableError } from '@rekey/crypto-core';

/** How the pool opens, checks and closes sessions. */
export interface SessionPoolOptions<S> {
  /** Upper bound on open sessions (at least 1). */
  readonly size: number;
  /** Opens a session. Throws a rekey error when the token refuses. */
  readonly open: () => S;
  /** Closes a session; errors are ignored, the session is gone either way. */
  readonly close: (session: S) => void;
  /** True when an error leaves the session unusable, so the pool drops it instead of reusing it. */
  readonly isFatal: (error: unknown) => boolean;
}

interface Waiter<S> {
  readonly resolve: (session: S) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Lends sessions to one operation at a time.
 *
 * @example
 * ```ts
 * const pool = new SessionPool({ size: 4, open, close, isFatal });
 * const out = await pool.use(async (session) => encrypt(session, data));
 * await pool.close();
 * ```
 */
export class SessionPool<S> {
  readonly #options: SessionPoolOptions<S>;
  readonly #idle: S[] = [];
  readonly #waiters: Waiter<S>[] = [];
  #open = 0;
  #borrowed = 0;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(options: SessionPoolOptions<S>) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new RangeError('"size" expected a positive integer');
    }
    this.#options = options;
  }

  /** Sessions open now (idle and borrowed). */
  get openCount(): number {
    return this.#open;
  }

  /** Calls waiting for a session now. */
  get waitingCount(): number {
    return this.#waiters.length;
  }

  /**
   * Runs `operation` with a session of its own and returns the session afterwards, or drops it
   * when the operation failed in a way that leaves it unusable.
   *
   * @throws {KekUnavailableError} when the pool is closed, or whatever `operation` or opening a
   * session throws.
   */
  async use<T>(operation: (session: S) => Promise<T> | T): Promise<T> {
    const session = await this.#acquire();
    let fatal = false;
    try {
      return await operation(session);
    } catch (error) {
      fatal = this.#options.isFatal(error);
      throw error;
    } finally {
      this.#release(session, fatal);
    }
  }

  /**
   * Closes every idle session, for when the token dropped them all at once (its sessions were
   * closed or it was reset): the next calls open fresh ones instead of meeting dead handles.
   */
  dropIdle(): void {
    for (const session of this.#idle.splice(0)) this.#closeSession(session);
  }

  /**
   * Refuses new calls, fails the waiting ones, waits for borrowed sessions to come back, then
   * runs `beforeClose` with one open session (to log out) and closes every session.
   */
  close(beforeClose?: (session: S | undefined) => void): Promise<void> {
    this.#closing ??= this.#shutDown(beforeClose);
    return this.#closing;
  }

  async #shutDown(beforeClose?: (session: S | undefined) => void): Promise<void> {
    const closed = new KekUnavailableError('pkcs11 provider is closed');
    for (const waiter of this.#waiters.splice(0)) waiter.reject(closed);
    if (this.#borrowed > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }

    beforeClose?.(this.#idle[0]);
    for (const session of this.#idle.splice(0)) this.#closeSession(session);
  }

  #acquire(): Promise<S> {
    if (this.#closing !== undefined) {
      return Promise.reject(new KekUnavailableError('pkcs11 provider is closed'));
    }
    const idle = this.#idle.pop();
    if (idle !== undefined) {
      this.#borrowed++;
      return Promise.resolve(idle);
    }
    if (this.#open < this.#options.size) {
      try {
        return Promise.resolve(this.#openBorrowed());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<S>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #release(session: S, fatal: boolean): void {
    this.#borrowed--;
    if (fatal) this.#closeSession(session);

    const waiter = this.#closing === undefined ? this.#waiters.shift() : undefined;
    if (waiter !== undefined && !fatal) {
      this.#borrowed++;
      waiter.resolve(session);
    } else if (waiter !== undefined) {
      // The dropped session's place goes to the next caller, with a fresh session.
      try {
        waiter.resolve(this.#openBorrowed());
      } catch (error) {
        waiter.reject(error);
      }
    } else if (!fatal) {
      this.#idle.push(session);
    }
    if (this.#borrowed === 0) this.#drained?.();
  }

  #openBorrowed(): S {
    const session = this.#options.open();
    this.#open++;
    this.#borrowed++;
    return session;
  }

  #closeSession(session: S): void {
    this.#open--;
    try {
      this.#options.close(session);
    } catch {
      // The session is unusable either way; closing is best effort.
    }
  }
}
