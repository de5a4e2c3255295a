/**
 * Builds an engine context from a validated configuration: RedisConnection, control store, DEK stores and
 * KEK providers. Used by the worker and by every CLI command.
 */

import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/worker-config.ts';
import type { ControlStore } from '../control/control-store.ts';
import { openControlStore } from '../control/open-control-store.ts';
import { openDekStore } from '../plugins/open-dek-store.ts';
import { openKekProvider } from '../plugins/open-kek-provider.ts';
import {
  type EngineContext,
  type EngineDatabase,
  type EngineKek,
  pacerFactory,
} from './engine-context.ts';
import { EngineQueues } from './engine-queues.ts';
import { ProgressPublisher } from './progress-events.ts';
import type { RedisConnection } from './redis-connection.ts';
import { connectRedis } from './redis-connection.ts';

/** An engine context and how to close everything it opened. */
export interface Engine {
  readonly ctx: EngineContext;
  close(): Promise<void>;
}

/** Parts a caller may supply instead of opening them from the configuration (tests). */
export interface EngineParts {
  readonly redis?: RedisConnection;
  readonly control?: ControlStore;
  readonly databases?: ReadonlyMap<string, EngineDatabase>;
  readonly keks?: ReadonlyMap<string, EngineKek>;
}

/** Opens everything the configuration names, or uses the parts given. */
export async function createEngine(
  config: WorkerConfig,
  logger: Logger,
  parts: EngineParts = {},
): Promise<Engine> {
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const redis = parts.redis ?? connectRedis(config.redis);
    if (parts.redis === undefined) closers.push(() => redis.quit());
    const control = parts.control ?? (await openControlStore(config.control));
    if (parts.control === undefined) closers.push(() => control.close());

    let databases = parts.databases;
    if (databases === undefined) {
      const map = new Map<string, EngineDatabase>();
      for (const db of config.databases) {
        const opened = await openDekStore(db);
        closers.push(() => opened.close());
        map.set(db.name, { name: db.name, store: opened.store, concurrency: db.concurrency });
      }
      databases = map;
    }
    let keks = parts.keks;
    if (keks === undefined) {
      const map = new Map<string, EngineKek>();
      for (const kek of config.keks) {
        const provider = await openKekProvider(kek, config.baseDir);
        closers.push(async () => provider.close?.());
        map.set(kek.name, {
          name: kek.name,
          provider,
          schedule: kek.schedule,
          retireAfterMs: kek.retireAfterMs,
          requestsPerSecond: kek.requestsPerSecond,
        });
      }
      keks = map;
    }

    const queues = new EngineQueues(redis, config.redis.prefix);
    closers.push(() => queues.close());
    const ctx: EngineContext = {
      prefix: config.redis.prefix,
      limits: config.limits,
      redis,
      control,
      databases,
      keks,
      queues,
      events: new ProgressPublisher(redis, config.redis.prefix),
      logger,
      pacer: pacerFactory(redis, config.redis.prefix, keks),
    };
    return { ctx, close: () => closeAll(closers) };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

async function closeAll(closers: (() => Promise<unknown>)[]): Promise<void> {
  for (const close of closers.reverse()) await close().catch(() => {});
  closers.length = 0;
}
