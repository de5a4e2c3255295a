/**
 * Builds the dashboard backend from the worker configuration: the same control store, KEK
 * providers, DEK stores and Redis prefix as the workers, so the dashboard sees what they do.
 */

import { loadConfigFile, type WorkerConfig } from '@rekey/worker/config';
import type { ControlStore } from '@rekey/worker/control';
import { openControlStore } from '@rekey/worker/control';
import {
  batchQueueName,
  CONTROL_QUEUE,
  cancelRun,
  connectRedis,
  EngineQueues,
  pauseRun,
  type RedisConnection,
  retryRun,
  triggerRotation,
  unpauseRun,
} from '@rekey/worker/engine';
import { openDekStore, openKekProvider } from '@rekey/worker/plugins';
import type { Queue } from 'bullmq';

import { type LoginLimiterOptions, RedisLoginLimiter } from './auth/login-limiter.ts';
import { beforeDeadline, withinDeadline } from './auth/redis-deadline.ts';
import { RedisSessionStore, type SessionOptions } from './auth/sessions.ts';
import type {
  DashboardBackend,
  DashboardDatabase,
  DashboardKek,
  EngineQueueAccess,
} from './dashboard-backend.ts';
import { redisEventSource } from './redis-event-source.ts';

/** The parts a backend is assembled from; `openBackend` opens them from a configuration. */
export interface BackendParts {
  /** One Redis server or a Redis Cluster client, as the configuration says. */
  readonly redis: RedisConnection;
  /** A second connection for the blocking event reader. */
  readonly eventsRedis: RedisConnection;
  readonly prefix: string;
  readonly control: ControlStore;
  readonly keks: readonly DashboardKek[];
  readonly databases: readonly DashboardDatabase[];
  /** Session and failed-login limits; the defaults otherwise (tests shorten them). */
  readonly auth?: { sessions?: SessionOptions; loginLimiter?: LoginLimiterOptions };
  /** Called by `close()` after the parts the backend owns are closed. */
  readonly onClose?: () => Promise<void>;
}

/** How long `/healthz` waits for Redis and for the control store. */
const HEALTH_TIMEOUT_MS = 2_000;

/** Whether `call` succeeds within `ms`. */
function answersWithin(ms: number, call: () => Promise<unknown>): Promise<boolean> {
  return beforeDeadline(ms, call).then(
    () => true,
    () => false,
  );
}

/** Assembles a backend from opened parts; `close()` closes Redis, queues and the control store. */
export function assembleBackend(parts: BackendParts): DashboardBackend {
  const engineQueues = new EngineQueues(parts.redis, parts.prefix);
  const queues: EngineQueueAccess = {
    control: () => engineQueues.queue(CONTROL_QUEUE),
    batch: (database) => engineQueues.queue(batchQueueName(database)),
    all: (): Queue[] => [
      engineQueues.queue(CONTROL_QUEUE),
      ...parts.databases.map((d) => engineQueues.queue(batchQueueName(d.name))),
    ],
  };
  const events = redisEventSource(parts.eventsRedis, parts.prefix);
  const ctx = { control: parts.control, queues: engineQueues };
  return {
    control: parts.control,
    keks: parts.keks,
    databases: parts.databases,
    queues,
    events,
    trigger: (request) => triggerRotation(ctx, request),
    // Under the engine's prefix, so a Redis Cluster keeps them in the prefix's slot.
    sessions: new RedisSessionStore(parts.redis, parts.prefix, parts.auth?.sessions),
    loginLimiter: new RedisLoginLimiter(parts.redis, parts.prefix, parts.auth?.loginLimiter),
    controls: {
      pause: (runId, actor) => pauseRun(ctx, runId, actor),
      unpause: (runId, actor) => unpauseRun(ctx, runId, actor),
      cancel: (runId, actor) => cancelRun(ctx, runId, actor),
      retry: (runId, actor) => retryRun(ctx, runId, actor),
    },
    // Within a deadline: the Redis client waits for Redis forever, and a health check that
    // hangs through an outage tells a load balancer nothing until its own timeout.
    async ping() {
      const [redis, control] = await Promise.all([
        withinDeadline(parts.redis, 'redis', HEALTH_TIMEOUT_MS, () => parts.redis.ping()).then(
          (r) => r === 'PONG',
          () => false,
        ),
        answersWithin(HEALTH_TIMEOUT_MS, () => parts.control.listRuns({ limit: 1 })),
      ]);
      return { redis, control };
    },
    async close() {
      await events.close();
      await engineQueues.close();
      await parts.control.close();
      parts.redis.disconnect();
      await parts.onClose?.();
    },
  };
}

/**
 * Opens everything the worker configuration names and assembles the backend.
 *
 * @throws {ConfigError} when a plugin cannot be loaded; opened parts are closed again.
 */
export async function openBackend(config: WorkerConfig): Promise<DashboardBackend> {
  const closers: (() => Promise<unknown>)[] = [];
  try {
    // A cluster client when the configuration names `redis.cluster`: it follows redirections
    // and failovers to the owner of the prefix's slot.
    const redis = connectRedis(config.redis);
    const eventsRedis = connectRedis(config.redis);
    closers.push(async () => {
      redis.disconnect();
      eventsRedis.disconnect();
    });
    const control = await openControlStore(config.control);
    closers.push(() => control.close());
    const keks: DashboardKek[] = [];
    for (const kek of config.keks) {
      const provider = await openKekProvider(kek, config.baseDir);
      closers.push(async () => provider.close?.());
      keks.push({
        name: kek.name,
        providerName: kek.provider,
        provider,
        schedule: kek.schedule,
        retireAfterMs: kek.retireAfterMs,
      });
    }
    const databases: DashboardDatabase[] = [];
    const storeClosers: (() => Promise<unknown>)[] = [];
    for (const db of config.databases) {
      // The dashboard only reads counts: the workers migrate the tables.
      const opened = await openDekStore(db, false);
      storeClosers.push(() => opened.close());
      closers.push(() => opened.close());
      databases.push({ name: db.name, store: opened.store });
    }
    const providerClosers = keks.map((k) => async () => k.provider.close?.());
    return assembleBackend({
      redis,
      eventsRedis,
      prefix: config.redis.prefix,
      control,
      keks,
      databases,
      onClose: async () => {
        for (const close of [...storeClosers, ...providerClosers]) await close().catch(() => {});
      },
    });
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => {});
    throw error;
  }
}

/**
 * Loads a worker configuration file and opens the backend it names.
 *
 * @throws {ConfigError} listing the problems of the file, or when a plugin cannot be loaded.
 */
export async function openBackendFromFile(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DashboardBackend> {
  return openBackend(loadConfigFile(path, env));
}
