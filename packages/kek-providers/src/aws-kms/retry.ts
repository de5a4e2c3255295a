/**
 * Retries with exponential backoff and jitter, for throttled KMS calls. A burst of calls spreads
 * out instead of failing, and a bounded number of attempts keeps an outage from hanging callers.
 */

/** How throttled calls are retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included. Default 10. */
  readonly maxAttempts: number;
  /** Cap of the first backoff, doubled per attempt. Default 25 ms. */
  readonly baseDelayMs: number;
  /** Largest backoff cap. Default 2,000 ms. */
  readonly maxDelayMs: number;
}

/** The policy used when none is given. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 10,
  baseDelayMs: 25,
  maxDelayMs: 2_000,
};

/** The backoff cap after `attempt` failed attempts: `min(max, base * 2^(attempt - 1))`. */
export function backoffCap(attempt: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * The wait after `attempt` failed attempts: uniform in `[cap / 2, cap]` ("equal jitter"), so
 * that waiters spread out but none retries at once.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const cap = backoffCap(attempt, policy);
  return cap / 2 + random() * (cap / 2);
}

/**
 * Calls `call` until it succeeds, fails with an error `retryable` refuses, or `maxAttempts`
 * attempts failed; then rethrows the last error.
 */
export async function withRetries<T>(
  call: () => Promise<T>,
  retryable: (error: unknown) => boolean,
  policy: RetryPolicy,
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= policy.maxAttempts || !retryable(error)) throw error;
      await sleep(backoffDelay(attempt, policy));
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
