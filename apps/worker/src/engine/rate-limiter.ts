/**
 * A provider request rate shared by every worker: a sliding-window log in Redis under the queue
 * prefix. A grant of `n` requests is recorded with the Redis server's clock; a grant is refused
 * while the grants of the last window add up to more than the limit. Callers issue a grant's
 * requests at once, so the request rate seen by the provider stays within the limit.
 */
import type { RedisConnection } from './redis-connection.ts';

// Grants are members `<n>:<id>` scored by the server time of the grant, oldest first.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do used = used + tonumber(string.match(entries[i], '^(%d+):')) end
if used + n <= limit then
  redis.call('ZADD', KEYS[1], now, n .. ':' .. ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return 0
end
local free = limit - used
for i = 1, #entries, 2 do
  free = free + tonumber(string.match(entries[i], '^(%d+):'))
  if free >= n then return tonumber(entries[i + 1]) + window - now + 1 end
end
return window
`;

/** Paces provider requests across all workers that share a Redis and a key. */
export interface RequestPacer {
  /** The most requests one grant may carry: issue at most this many at once. */
  readonly grantSize: number;
  /** Waits until `n` requests (at most `grantSize`) may be sent now. */
  acquire(n: number, signal?: AbortSignal): Promise<void>;
}

/** A pacer that never waits, for providers without a configured rate. */
export const UNLIMITED_PACER: RequestPacer = {
  grantSize: Number.POSITIVE_INFINITY,
  acquire: async () => {},
};

let grantCounter = 0;

/**
 * A pacer allowing about `perSecond` requests in any window of `windowMs` (default 1,050 ms;
 * the extra 50 ms absorbs the spread between a grant and its requests reaching the provider).
 * A reserve of 2% + 5 requests per window is left for calls that cannot be paced ahead (a
 * provider resolving a key once before its first rewrap), so the rate the provider measures
 * over any second stays within `perSecond`. A saturated pacer delivers about 0.91-0.93 x `perSecond`.
 */
export function redisRequestPacer(
  redis: RedisConnection,
  key: string,
  perSecond: number,
  windowMs = 1_050,
): RequestPacer {
  const limit = Math.max(1, Math.floor(perSecond) - Math.ceil(perSecond * 0.02) - 5);
  // Small grants keep the requests of one grant close together in time.
  const grantSize = Math.max(1, Math.min(limit, Math.ceil(limit / 50)));
  const member = `${process.pid}.${Math.random().toString(36).slice(2)}`;
  return {
    grantSize,
    async acquire(n, signal) {
      const want = Math.max(1, Math.min(n, limit));
      for (;;) {
        signal?.throwIfAborted();
        const wait = Number(
          await redis.eval(ACQUIRE, 1, key, limit, windowMs, want, `${member}.${++grantCounter}`),
        );
        if (wait <= 0) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(wait, windowMs)));
      }
    },
  };
}
