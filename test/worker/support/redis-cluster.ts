/**
 * A throw-away three-master Redis Cluster on free loopback ports, without persistence, for tests
 * that must run the engine against a real cluster (MOVED redirections, one slot per prefix).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running cluster. */
export interface RedisCluster {
  /** One `redis://127.0.0.1:<port>` URL per master. */
  readonly urls: readonly string[];
  readonly ports: readonly number[];
  /** Runs `redis-cli -p <port> <args>` and returns its output. */
  cli(port: number, ...args: string[]): string;
  /** The port of the master that owns the slot of `key`. */
  ownerOf(key: string): number;
  /** SHUTDOWN NOSAVE on every node, then removes the directory. */
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      );
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts three `redis-server --cluster-enabled yes` nodes, joins them with
 * `redis-cli --cluster create` and waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'rekey-cluster-'));
  const ports: number[] = [];
  const cli = (port: number, ...args: string[]): string =>
    execFileSync('redis-cli', ['-p', String(port), ...args], { stdio: 'pipe' }).toString('utf8');
  const stop = (): void => {
    for (const port of ports) {
      try {
        cli(port, 'shutdown', 'nosave');
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      // The bus port defaults to port + 10000, which may be taken or beyond 65535: pick one.
      const busPort = await freePort();
      execFileSync('redis-server', [
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
        '--daemonize',
        'yes',
      ]);
      ports.push(port);
    }
    for (const port of ports) {
      for (let i = 0; ; i++) {
        try {
          if (cli(port, 'ping').trim() === 'PONG') break;
        } catch {
          if (i > 50) throw new Error(`redis-server on ${port} did not start`);
        }
        await sleep(100);
      }
    }
    execFileSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { stdio: 'pipe' },
    );
    for (const port of ports) {
      for (let i = 0; !cli(port, 'cluster', 'info').includes('cluster_state:ok'); i++) {
        if (i > 100) throw new Error(`cluster node ${port} never reached cluster_state:ok`);
        await sleep(100);
      }
    }
  } catch (error) {
    stop();
    throw error;
  }
  const ownerOf = (key: string): number => {
    const slot = Number(cli(ports[0] as number, 'cluster', 'keyslot', key).trim());
    for (const port of ports) {
      const line = cli(port, 'cluster', 'nodes')
        .split('\n')
        .find((l) => l.includes('myself'));
      const ranges = line?.split(' ').slice(8) ?? [];
      for (const range of ranges) {
        const [from, to] = range.split('-').map(Number);
        if (from !== undefined && slot >= from && slot <= (to ?? from)) return port;
      }
    }
    throw new Error(`no master owns slot ${slot}`);
  };
  return {
    urls: ports.map((p) => `redis://127.0.0.1:${p}`),
    ports,
    cli,
    ownerOf,
    stop,
  };
}
