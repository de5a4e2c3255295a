import { ConfigError } from '@rekey/crypto-core';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { connectRedis, isCluster } from './redis-connection.ts';

describe('connectRedis', () => {
  it('opens a single-server client for a url and a cluster client for cluster nodes', () => {
    const one = connectRedis({ url: 'redis://127.0.0.1:6379', cluster: undefined, prefix: '{x}' });
    const many = connectRedis({
      url: undefined,
      cluster: { nodes: ['rediss://user:pw@127.0.0.1:1', 'redis://127.0.0.1:2'] },
      prefix: '{x}',
    });
    try {
      expect(one).toBeInstanceOf(Redis);
      expect(isCluster(one)).toBe(false);
      expect(many).toBeInstanceOf(Cluster);
      expect(isCluster(many)).toBe(true);
      const options = (many as Cluster).options.redisOptions;
      // BullMQ workers refuse a connection with a per-request retry limit.
      expect(options?.maxRetriesPerRequest).toBeNull();
      expect(options).toMatchObject({ username: 'user', password: 'pw', tls: {} });
    } finally {
      one.disconnect();
      many.disconnect();
    }
  });

  it('refuses a cluster node that is not a redis URL without quoting it', () => {
    const open = (node: string) => () =>
      connectRedis({ url: undefined, cluster: { nodes: [node] }, prefix: '{x}' });
    expect(open('http://h:1')).toThrow(ConfigError);
    expect(open('not a url :secret')).toThrow(/nodes\[0\]: not a redis/);
    expect(open('not a url :secret')).not.toThrow(/secret/);
    expect(open('redis://h:1/3')).toThrow(/database 0 only/);
  });
});
