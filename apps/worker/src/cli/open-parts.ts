/** Opening just what a CLI command needs, and closing it again. */

import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/worker-config.ts';
import type { ControlStore } from '../control/control-store.ts';
import { openControlStore } from '../control/open-control-store.ts';
import { EngineQueues } from '../engine/engine-queues.ts';
import type { RedisConnection } from '../engine/redis-connection.ts';
import { connectRedis } from '../engine/redis-connection.ts';

/** The control store and the queues, for commands that only record and enqueue. */
export interface ControlParts {
  readonly control: ControlStore;
  readonly queues: EngineQueues;
  readonly redis: RedisConnection;
  close(): Promise<void>;
}

/** Opens the control store and the queues of `config`. */
export async function openControlParts(
  config: WorkerConfig,
  _logger?: Logger,
): Promise<ControlParts> {
  const control = await openControlStore(config.control);
  const redis = connectRedis(config.redis, { failFast: true });
  const queues = new EngineQueues(redis, config.redis.prefix);
  return {
    control,
    queues,
    redis,
    async close() {
      await queues.close();
      await redis.quit().catch(() => {});
      await control.close();
    },
  };
}
