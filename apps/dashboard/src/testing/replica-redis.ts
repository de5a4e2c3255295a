/**
 * Two Redis connections, as two dashboard replicas would have, and fresh hash-tagged prefixes
 * whose keys are deleted when the test file ends.
 */
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll } from 'vitest';

import { REDIS_URL } from './test-stack.ts';

/** The connections and a prefix maker; call once at a test file's top level. */
export function replicaRedis(): { one: Redis; two: Redis; freshPrefix(name: string): string } {
  const one = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const two = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefixes: string[] = [];

  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await one.keys(`${prefix}*`);
      if (keys.length > 0) await one.del(...keys);
    }
    one.disconnect();
    two.disconnect();
  });

  return {
    one,
    two,
    freshPrefix(name) {
      const prefix = `{rekey-dash-${name}-${randomBytes(4).toString('hex')}}`;
      prefixes.push(prefix);
      return prefix;
    },
  };
}
