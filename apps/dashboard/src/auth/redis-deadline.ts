/**
 * Redis calls on the sign-in path fail closed and fast. The dashboard's Redis client waits for
 * Redis forever (BullMQ wants that), so a session lookup during an outage would hold the request
 * until Redis came back; instead it is refused at once while the connection is down, and given
 * up after a deadline otherwise.
 */
import { StoreUnavailableError } from '@rekey/crypto-core';
import type { RedisConnection } from '@rekey/worker/engine';

/** Connection states in which a command would only wait in the client's offline queue. */
const DISCONNECTED = new Set(['close', 'reconnecting', 'end']);

/**
 * Runs `call` on `redis` within `timeoutMs`.
 *
 * @param what names the store in the error message, e.g. `session store`.
 * @throws {StoreUnavailableError} when the connection is down, Redis fails the command or does
 *   not answer in time. The message names the store and the reason only; the Redis error, which
 *   may name a host, is kept as `cause`.
 */
export async function withinDeadline<T>(
  redis: RedisConnection,
  what: string,
  timeoutMs: number,
  call: () => Promise<T>,
): Promise<T> {
  if (DISCONNECTED.has(redis.status)) {
    throw new StoreUnavailableError(`${what} unavailable: redis is disconnected`);
  }

  const answer = call().catch((error: unknown) => {
    throw new StoreUnavailableError(`${what} unavailable: the command failed`, {
      cause: error,
    });
  });
  return beforeDeadline(
    timeoutMs,
    () => answer,
    () => new StoreUnavailableError(`${what} unavailable: no answer in ${timeoutMs} ms`),
  );
}

/**
 * `call()`'s result, or a rejection with `late()` once `timeoutMs` has passed without one (the
 * call itself is not cancelled).
 */
export async function beforeDeadline<T>(
  timeoutMs: number,
  call: () => Promise<T>,
  late: () => Error = () => new Error(`no answer in ${timeoutMs} ms`),
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), timeoutMs);
  });
  try {
    return await Promise.race([call(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
