/** `rekey worker`: runs the queue workers and, when elected, the scheduler and reconciler. */
import { parseArgs } from 'node:util';

import { createEngine } from '../../engine/create-engine.ts';
import { RotationWorker } from '../../engine/rotation-worker.ts';
import { createLogger } from '../../logger.ts';
import { type CliIo, EXIT, line, loadCliConfig } from '../cli-context.ts';

export const WORKER_HELP = `Usage: rekey worker [--config FILE]

Runs the rotation workers for every configured database, and takes part in the leader election
(one leader upserts the rotation schedules and re-enqueues the work of active runs). Logs JSON
lines to stdout. SIGTERM or SIGINT: stop taking jobs, release the running batch, exit within
limits.shutdownDeadline. Refuses to start when Redis may evict keys.

Options:
  --config FILE   config file (default: $REKEY_CONFIG or ./rekey.config.json)
  --help          this text`;

export async function workerCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    line(io.stdout, WORKER_HELP);
    return EXIT.ok;
  }
  const config = loadCliConfig(values.config, io);
  const logger = createLogger();
  const engine = await createEngine(config, logger);
  const tickMs = Number(io.env.REKEY_TICK_MS ?? 2_000);
  const lockDurationMs = Number(io.env.REKEY_LOCK_MS ?? 15_000);
  const worker = new RotationWorker(engine.ctx, { tickMs, lockDurationMs });
  try {
    await worker.start();
  } catch (error) {
    await engine.close();
    throw error;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ event: 'worker.signal', signal }, 'signal received');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await worker.stop();
  await engine.close();
  logger.flush();
  return EXIT.ok;
}
