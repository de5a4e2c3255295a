/** The worker, the dashboard and one-off `rekey` commands, as child processes of the demo. */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../apps/worker/src/cli.ts', import.meta.url));
const DASHBOARD = fileURLToPath(new URL('../../apps/dashboard/src/node-main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** Node flags that run a TypeScript entry from the workspace sources, as the other scripts do. */
const NODE_ARGS = ['--conditions=@rekey/source', '--import', TSX];

/** Output of a finished `rekey` command. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `rekey <args> --config <config>` to its end and collects its output. */
export function runRekey(
  args: readonly string[],
  config: string,
  env: NodeJS.ProcessEnv,
): Promise<CliResult> {
  const child = spawn(process.execPath, [...NODE_ARGS, CLI, ...args, '--config', config], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Starts `rekey worker` with its JSON log appended to `logFile`. */
export function startWorker(config: string, env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const log = openSync(logFile, 'a', 0o600);
  return spawn(process.execPath, [...NODE_ARGS, CLI, 'worker', '--config', config], {
    cwd: ROOT,
    env: { REKEY_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', log, log],
  });
}

/** Starts the dashboard's Node entry with its log appended to `logFile`. */
export function startDashboard(env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const log = openSync(logFile, 'a', 0o600);
  return spawn(process.execPath, [...NODE_ARGS, DASHBOARD], {
    cwd: ROOT,
    env,
    stdio: ['ignore', log, log],
  });
}

/** Sends SIGTERM and waits for the exit; SIGKILL after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 40_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** `preferred` when nothing listens on it at 127.0.0.1, else a free port the system picks. */
export async function choosePort(preferred: number): Promise<number> {
  const tryListen = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address !== null ? address.port : undefined;
        server.close(() => resolve(chosen));
      });
    });
  if (preferred !== 0) {
    const port = await tryListen(preferred);
    if (port !== undefined) return port;
  }
  const port = await tryListen(0);
  if (port === undefined) throw new Error('no free port on 127.0.0.1');
  return port;
}

/** Polls `url` until it answers 200 or `timeoutMs` passes. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
