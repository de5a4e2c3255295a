/** `rekey worker` as a child process, as an operator runs it, with its output captured. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../../apps/worker/src/cli.ts', import.meta.url));

/** A running worker process. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or 128 + signal number) once it has exited. */
  readonly exited: Promise<number>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `rekey <args>` (by default `worker`) with a config file and fast test timings. */
export function spawnRekey(
  configPath: string,
  args: readonly string[] = ['worker'],
  env: Record<string, string> = {},
): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--conditions=@rekey/source', '--import', 'tsx', CLI, ...args, '--config', configPath],
    {
      cwd: ROOT,
      env: { ...process.env, REKEY_TICK_MS: '300', REKEY_LOCK_MS: '3000', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 143)));
  });
  return {
    child,
    output: () => output,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
