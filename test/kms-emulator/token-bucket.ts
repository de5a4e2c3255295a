/**
 * A token bucket: `rate` tokens a second, at most `burst` saved up. The emulator takes one token
 * per request and answers `ThrottlingException` when none is left, as KMS does past its quota.
 */
export interface RateLimit {
  /** Sustained requests per second. */
  readonly requestsPerSecond: number;
  /** Requests allowed at once after a quiet period. Defaults to `requestsPerSecond` (1 s). */
  readonly burst?: number;
}

export class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(limit: RateLimit, now: () => number = () => performance.now()) {
    if (!(limit.requestsPerSecond > 0)) throw new RangeError('requestsPerSecond must be > 0');
    this.#rate = limit.requestsPerSecond / 1000;
    this.#capacity = Math.max(1, limit.burst ?? limit.requestsPerSecond);
    this.#now = now;
    this.#tokens = this.#capacity;
    this.#at = now();
  }

  /** Takes a token when one is available. */
  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#rate);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
