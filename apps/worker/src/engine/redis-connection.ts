/**
 * Redis connections for the engine (one server or a Redis Cluster), and the refusal to run on a
 * Redis that evicts keys.
 */
import { ConfigError } from '@rekey/crypto-core';
import { Cluster, type ClusterNode, Redis, type RedisOptions } from 'ioredis';

import { type RedisConfig, revealed } from '../config/worker-config.ts';

/**
 * A connection to one Redis server or to a Redis Cluster. Every key rekey uses carries the
 * `{prefix}` hash tag, so on a cluster each command and script stays within one slot.
 */
export type RedisConnection = Redis | Cluster;

/** How a connection behaves while Redis is away. */
export interface ConnectOptions {
  /** Give up after a few attempts (command-line calls) instead of waiting forever (workers). */
  readonly failFast?: boolean;
}

/**
 * A Redis connection. Workers wait for Redis forever (BullMQ needs no per-request retry limit);
 * a command-line call (`failFast`) gives up after a few attempts so the CLI reports the outage.
 * Given a config with `cluster`, it is an ioredis `Cluster` that follows `MOVED` redirections
 * and failovers; credentials and TLS (`rediss://`) of the first seed node apply to every node.
 *
 * @throws {ConfigError} when the config names neither a URL nor cluster nodes, or a cluster
 *   node is not a `redis://` or `rediss://` URL (the message names its position, not its text).
 * @example
 * const redis = connectRedis(config.redis); // Redis or Cluster
 * const one = connectRedis('redis://127.0.0.1:6379'); // Redis
 */
export function connectRedis(url: string, options?: ConnectOptions): Redis;
export function connectRedis(config: RedisConfig, options?: ConnectOptions): RedisConnection;
export function connectRedis(
  target: string | RedisConfig,
  options: ConnectOptions = {},
): RedisConnection {
  const failFast = options.failFast === true;
  const perNode: RedisOptions = failFast
    ? { maxRetriesPerRequest: 2, connectTimeout: 5_000, enableReadyCheck: true }
    : { maxRetriesPerRequest: null, enableReadyCheck: true };
  if (typeof target === 'string') return new Redis(target, perNode);
  if (target.cluster !== undefined) {
    return connectCluster(target.cluster.nodes.map(revealed), perNode, failFast);
  }
  if (target.url === undefined) throw new ConfigError('redis: neither url nor cluster is set');
  return new Redis(revealed(target.url), perNode);
}

/** True when the connection is a Redis Cluster client. */
export function isCluster(redis: RedisConnection): redis is Cluster {
  return redis instanceof Cluster;
}

function connectCluster(
  urls: readonly string[],
  perNode: RedisOptions,
  failFast: boolean,
): Cluster {
  const parsed = urls.map(parseNode);
  const first = parsed[0];
  if (first === undefined) throw new ConfigError('redis.cluster.nodes: at least one node');
  const username = first.username === '' ? undefined : first.username;
  const password = first.password === '' ? undefined : first.password;
  return new Cluster(
    parsed.map((n): ClusterNode => ({ host: n.host, port: n.port })),
    {
      redisOptions: {
        ...perNode,
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
        ...(first.tls ? { tls: {} } : {}),
      },
      enableReadyCheck: true,
      // Without a limit the cluster client retries its seed nodes forever and queued commands
      // never fail: right for a worker, wrong for a CLI call that should report the outage.
      ...(failFast
        ? { clusterRetryStrategy: (times: number) => (times > 3 ? null : 200 * times) }
        : {}),
    },
  );
}

interface ParsedNode {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly tls: boolean;
}

function parseNode(url: string, index: number): ParsedNode {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // `new URL`'s message quotes the input, which may carry a password.
    throw new ConfigError(`redis.cluster.nodes[${index}]: not a redis:// or rediss:// URL`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(`redis.cluster.nodes[${index}]: not a redis:// or rediss:// URL`);
  }
  if (parsed.pathname !== '' && parsed.pathname !== '/' && parsed.pathname !== '/0') {
    throw new ConfigError(`redis.cluster.nodes[${index}]: a Redis Cluster has database 0 only`);
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    tls: parsed.protocol === 'rediss:',
  };
}

/**
 * Throws unless Redis is configured never to evict keys: an evicted job or lock would silently
 * lose work. Reads `INFO memory`, which works where `CONFIG` is disabled (managed Redis). On a
 * cluster it asks every master, since a failover or a resharding can move the prefix's slot.
 *
 * @throws {ConfigError} naming the policy found.
 */
export async function assertNoEviction(redis: RedisConnection): Promise<void> {
  let nodes: Redis[] = [];
  if (isCluster(redis)) {
    // A command waits until the cluster client has its slot map; only then are masters known.
    await redis.ping();
    nodes = redis.nodes('master');
  } else {
    nodes = [redis];
  }
  const policies = await Promise.all(
    nodes.map(async (node) => {
      const info = await node.info('memory');
      return /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? 'unknown';
    }),
  );
  const wrong = policies.filter((p) => p !== 'noeviction');
  if (wrong.length > 0 || policies.length === 0) {
    const where = isCluster(redis) ? ` on ${wrong.length} of ${policies.length} masters` : '';
    throw new ConfigError(
      `redis maxmemory-policy is ${wrong[0] ?? 'unknown'}${where}; rekey needs noeviction so that no job or lock is evicted`,
    );
  }
}
