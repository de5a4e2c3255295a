import { describe, expect, it } from 'vitest';

import { LoginLimiter } from './login-limiter.ts';

function limiter(options: { perAddress?: number; global?: number } = {}) {
  const clock = { now: 5_000_000 };
  const l = new LoginLimiter({ windowMs: 60_000, ...options, now: () => clock.now });
  return { l, clock };
}

describe('the failed-login limiter', () => {
  it('blocks an address after its failures until the window ends', () => {
    const { l, clock } = limiter({ perAddress: 3 });
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfter('10.0.0.1')).toBe(0);
      l.fail('10.0.0.1');
    }
    expect(l.retryAfter('10.0.0.1')).toBe(60_000);
    expect(l.retryAfter('10.0.0.2')).toBe(0);
    clock.now += 59_000;
    expect(l.retryAfter('10.0.0.1')).toBe(1_000);
    clock.now += 1_000;
    expect(l.retryAfter('10.0.0.1')).toBe(0);
  });

  it('blocks everyone when failures from many addresses add up', () => {
    const { l } = limiter({ perAddress: 100, global: 5 });
    for (let i = 0; i < 5; i++) l.fail(`10.0.1.${i}`);
    expect(l.retryAfter('10.9.9.9')).toBeGreaterThan(0);
  });

  it('clears an address after a successful login', () => {
    const { l } = limiter({ perAddress: 2 });
    l.fail('10.0.0.1');
    l.succeed('10.0.0.1');
    l.fail('10.0.0.1');
    expect(l.retryAfter('10.0.0.1')).toBe(0);
  });
});
