/**
 * Rate limit of failed logins, per client address and for everyone together so that guessing
 * from many addresses is slow too, counted in Redis so that every dashboard replica shares the
 * counts. Only failures count: an attempt is counted when it starts (so that concurrent attempts
 * on several replicas cannot all slip under the limit) and uncounted when its token was good.
 *
 * Keys, under the configured prefix, each a hash of `start` (epoch ms) and `count` expiring with
 * its fixed window:
 *
 * - `<prefix>:dashboard:login:address:<sha256(address) hex>`, one per address that failed;
 * - `<prefix>:dashboard:login:all`, the count of every address.
 *
 * Attempts refused by the limit are not counted, so at most `global` address keys are created
 * per window.
 */
import { createHash } from 'node:crypto';

import type { RedisConnection } from '@rekey/worker/engine';

import { REDIS_NOW } from './redis-clock.ts';
import { withinDeadline } from './redis-deadline.ts';

/** One login attempt, already counted as a failure. */
export interface LoginAttempt {
  /** 0 when the attempt may go on; otherwise milliseconds to wait, and nothing was counted. */
  readonly retryAfterMs: number;
  /**
   * The token was good: uncounts the attempt and forgets the address's failures.
   *
   * @throws {StoreUnavailableError} when the limiter cannot be reached.
   */
  succeeded(): Promise<void>;
}

/** The failed-login limiter the login route asks. */
export interface LoginLimiter {
  /**
   * Starts an attempt from `address`: counts it, or refuses it while the address or everyone
   * is over the limit.
   *
   * @throws {StoreUnavailableError} when the limiter cannot be reached.
   */
  begin(address: string): Promise<LoginAttempt>;
}

/** Limits of the failed-login limiter. */
export interface LoginLimiterOptions {
  /** Failures allowed per address in a window (default 5). */
  readonly perAddress?: number;
  /** Failures allowed from all addresses in a window (default 50). */
  readonly global?: number;
  /** Window length (default 60 seconds). */
  readonly windowMs?: number;
  /** How long a Redis call may take before the login fails closed (default 2 s). */
  readonly timeoutMs?: number;
  /** The clock, for tests; by default the Redis server's, the same for every replica. */
  readonly now?: () => number;
}

// KEYS: address, all. ARGV: now, window, per address, global.
// Answers {wait, start of the global window}; counts the attempt when wait is 0.
const BEGIN = `${REDIS_NOW}
local window = tonumber(ARGV[2])
local function current(key)
  local v = redis.call('HMGET', key, 'start', 'count')
  local start, count = tonumber(v[1]), tonumber(v[2])
  if not start or not count or now - start >= window then return now, 0 end
  return start, count
end
local aStart, aCount = current(KEYS[1])
local gStart, gCount = current(KEYS[2])
local wait = 0
if aCount >= tonumber(ARGV[3]) then wait = aStart + window - now end
if gCount >= tonumber(ARGV[4]) then wait = math.max(wait, gStart + window - now) end
if wait > 0 then return {math.min(wait, window), gStart} end
redis.call('HSET', KEYS[1], 'start', aStart, 'count', aCount + 1)
redis.call('PEXPIRE', KEYS[1], math.max(1, aStart + window - now))
redis.call('HSET', KEYS[2], 'start', gStart, 'count', gCount + 1)
redis.call('PEXPIRE', KEYS[2], math.max(1, gStart + window - now))
return {0, gStart}
`;

// KEYS: address, all. ARGV: start of the global window the attempt was counted in.
const SUCCEED = `
redis.call('DEL', KEYS[1])
local v = redis.call('HMGET', KEYS[2], 'start', 'count')
if v[1] == ARGV[1] and tonumber(v[2]) and tonumber(v[2]) > 0 then
  redis.call('HINCRBY', KEYS[2], 'count', -1)
end
return 1
`;

/**
 * Failed-login counts in Redis, in fixed windows, shared by every dashboard process on the same
 * Redis and prefix.
 *
 * @example
 * const attempt = await limiter.begin(address);
 * if (attempt.retryAfterMs > 0) return tooMany(attempt.retryAfterMs);
 * if (tokenIsGood) await attempt.succeeded();
 */
export class RedisLoginLimiter implements LoginLimiter {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #perAddress: number;
  readonly #global: number;
  readonly #windowMs: number;
  readonly #timeoutMs: number;
  readonly #now: (() => number) | undefined;

  constructor(redis: RedisConnection, prefix: string, options: LoginLimiterOptions = {}) {
    this.#redis = redis;
    this.#prefix = `${prefix}:dashboard:login:`;
    this.#perAddress = options.perAddress ?? 5;
    this.#global = options.global ?? 50;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#now = options.now;
  }

  async begin(address: string): Promise<LoginAttempt> {
    const keys = [this.#addressKey(address), `${this.#prefix}all`] as const;
    const now = this.#now === undefined ? '' : String(this.#now());

    const [wait, globalStart] = (await this.#call(() =>
      this.#redis.eval(BEGIN, 2, ...keys, now, this.#windowMs, this.#perAddress, this.#global),
    )) as [number, number];
    return {
      retryAfterMs: Number(wait),
      succeeded: async () => {
        await this.#call(() => this.#redis.eval(SUCCEED, 2, ...keys, String(globalStart)));
      },
    };
  }

  #addressKey(address: string): string {
    return `${this.#prefix}address:${createHash('sha256').update(address, 'utf8').digest('hex')}`;
  }

  #call<T>(call: () => Promise<T>): Promise<T> {
    return withinDeadline(this.#redis, 'login limiter', this.#timeoutMs, call);
  }
}
