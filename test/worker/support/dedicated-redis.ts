/**
 * A throw-away Redis server on its own port, for tests that must FLUSHALL or change the
 * eviction policy without touching the Redis that other tests share.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';

/** A running dedicated Redis. */
export interface DedicatedRedis {
  readonly url: string;
  readonly port: number;
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

/** Starts `redis-server` without persistence on a free port. */
export async function startDedicatedRedis(): Promise<DedicatedRedis> {
  const port = await freePort();
  execFileSync('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'yes',
  ]);
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => {
      try {
        execFileSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'pipe' });
      } catch {
        // Already gone.
      }
    },
  };
}
