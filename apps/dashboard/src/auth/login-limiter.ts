/**
 * Rate limit of failed logins: per client address, and for everyone together so that guessing
 * from many addresses is slow too. Only failures count; a success clears the address.
 */

/** Limits of the failed-login limiter. */
export interface LoginLimiterOptions {
  /** Failures allowed per address in a window (default 5). */
  readonly perAddress?: number;
  /** Failures allowed from all addresses in a window (default 50). */
  readonly global?: number;
  /** Window length (default 60 seconds). */
  readonly windowMs?: number;
  readonly now?: () => number;
}

/** Counts failed logins in fixed windows. */
export class LoginLimiter {
  readonly #perAddress: number;
  readonly #global: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #failures = new Map<string, { count: number; windowStart: number }>();
  #globalWindow = { count: 0, windowStart: 0 };

  constructor(options: LoginLimiterOptions = {}) {
    this.#perAddress = options.perAddress ?? 5;
    this.#global = options.global ?? 50;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Milliseconds until `address` may try again, or 0 when it may try now. */
  retryAfter(address: string): number {
    const now = this.#now();
    const entry = this.#failures.get(address);
    const g = this.#globalWindow;
    let wait = 0;
    if (entry !== undefined && now - entry.windowStart < this.#windowMs) {
      if (entry.count >= this.#perAddress) wait = entry.windowStart + this.#windowMs - now;
    }
    if (now - g.windowStart < this.#windowMs && g.count >= this.#global) {
      wait = Math.max(wait, g.windowStart + this.#windowMs - now);
    }
    return wait;
  }

  /** Records a failed login of `address`. */
  fail(address: string): void {
    const now = this.#now();
    if (this.#failures.size > 10_000) this.#prune(now);
    const entry = this.#failures.get(address);
    if (entry === undefined || now - entry.windowStart >= this.#windowMs) {
      this.#failures.set(address, { count: 1, windowStart: now });
    } else {
      entry.count++;
    }
    if (now - this.#globalWindow.windowStart >= this.#windowMs) {
      this.#globalWindow = { count: 1, windowStart: now };
    } else {
      this.#globalWindow.count++;
    }
  }

  /** Forgets the failures of `address` after a successful login. */
  succeed(address: string): void {
    this.#failures.delete(address);
  }

  #prune(now: number): void {
    for (const [address, entry] of this.#failures) {
      if (now - entry.windowStart >= this.#windowMs) this.#failures.delete(address);
    }
  }
}
