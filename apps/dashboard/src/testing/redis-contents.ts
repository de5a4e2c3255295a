/**
 * Everything Redis holds under a prefix, as text, for tests that check what never may be
 * stored there (session ids, CSRF tokens, access tokens).
 */
import { Redis } from 'ioredis';

import { REDIS_URL } from './test-stack.ts';

/**
 * Every key under `prefix` (found with `SCAN`) and its value written out as text: strings as
 * they are, hashes, lists, sets, sorted sets (with scores) and streams (ids, fields and values)
 * as JSON.
 *
 * @throws {TypeError} for a key of a type the test cannot read, so that nothing goes unchecked.
 */
export async function readRedisContents(prefix: string): Promise<Map<string, string>> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');

    const contents = new Map<string, string>();
    for (const key of new Set(keys)) {
      const value = await readValue(redis, key);
      // A key that expired between SCAN and the read holds nothing any more.
      if (value !== undefined) contents.set(key, value);
    }
    return contents;
  } finally {
    redis.disconnect();
  }
}

async function readValue(redis: Redis, key: string): Promise<string | undefined> {
  const type = await redis.type(key);
  switch (type) {
    case 'none':
      return undefined;
    case 'string':
      return (await redis.get(key)) ?? undefined;
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      throw new TypeError(`redis key of type ${type} cannot be read by the test`);
  }
}
