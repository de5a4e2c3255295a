import { describe, expect, it } from 'vitest';

import { backoffCap, backoffDelay, type RetryPolicy, withRetries } from './retry.ts';

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 50 };

describe('retries with backoff', () => {
  it('doubles the backoff cap per attempt up to the maximum', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffCap(n, policy))).toEqual([10, 20, 40, 50, 50]);
  });

  it('waits between half the cap and the cap', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(20);
    expect(backoffDelay(3, policy, () => 0.999999)).toBeCloseTo(40, 3);
  });

  it('retries retryable failures until one succeeds', async () => {
    const waits: number[] = [];
    let calls = 0;

    const result = await withRetries(
      async () => {
        calls++;
        if (calls < 3) throw new Error('busy');
        return 'done';
      },
      () => true,
      policy,
      async (ms) => void waits.push(ms),
    );

    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('gives up after maxAttempts and rethrows the last error', async () => {
    let calls = 0;
    const run = withRetries(
      async () => {
        calls++;
        throw new Error(`busy ${calls}`);
      },
      () => true,
      policy,
      async () => undefined,
    );

    await expect(run).rejects.toThrow('busy 4');
    expect(calls).toBe(4);
  });

  it('does not retry failures the predicate refuses', async () => {
    let calls = 0;
    const run = withRetries(
      async () => {
        calls++;
        throw new Error('bad request');
      },
      () => false,
      policy,
      async () => undefined,
    );

    await expect(run).rejects.toThrow('bad request');
    expect(calls).toBe(1);
  });
});
