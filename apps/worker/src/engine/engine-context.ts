/** Everything the engine's job processors share. */
import type { DekStore, KekProvider } from '@rekey/crypto-core';
import type { Logger } from 'pino';
import type { KekConfig, LimitsConfig } from '../config/worker-config.ts';
import type { ControlStore } from '../control/control-store.ts';
import type { EngineQueues } from './engine-queues.ts';
import type { ProgressPublisher } from './progress-events.ts';
import { type RequestPacer, redisRequestPacer, UNLIMITED_PACER } from './rate-limiter.ts';
import type { RedisConnection } from './redis-connection.ts';

/** A managed database as the engine sees it. */
export interface EngineDatabase {
  readonly name: string;
  readonly store: DekStore;
  /** Rewrap jobs of this database running at once across all workers. */
  readonly concurrency: number;
}

/** A KEK name as the engine sees it. */
export interface EngineKek {
  readonly name: string;
  readonly provider: KekProvider;
  readonly schedule: KekConfig['schedule'];
  readonly retireAfterMs: number | undefined;
  readonly requestsPerSecond: number | undefined;
}

/** Shared state of the job processors of one worker process. */
export interface EngineContext {
  readonly prefix: string;
  readonly limits: LimitsConfig;
  readonly redis: RedisConnection;
  readonly control: ControlStore;
  readonly databases: ReadonlyMap<string, EngineDatabase>;
  readonly keks: ReadonlyMap<string, EngineKek>;
  readonly queues: EngineQueues;
  readonly events: ProgressPublisher;
  readonly logger: Logger;
  /** The request pacer of a KEK name, shared by all workers through Redis. */
  pacer(kekName: string): RequestPacer;
}

/** The pacer factory of a context: one Redis-backed pacer per KEK name with a rate. */
export function pacerFactory(
  redis: RedisConnection,
  prefix: string,
  keks: ReadonlyMap<string, EngineKek>,
): (kekName: string) => RequestPacer {
  const pacers = new Map<string, RequestPacer>();
  return (kekName) => {
    let pacer = pacers.get(kekName);
    if (pacer === undefined) {
      const rate = keks.get(kekName)?.requestsPerSecond;
      pacer =
        rate === undefined
          ? UNLIMITED_PACER
          : redisRequestPacer(redis, `${prefix}:rate:${kekName}`, rate);
      pacers.set(kekName, pacer);
    }
    return pacer;
  };
}

/** The engine database of `name`. @throws {Error} when it is not configured. */
export function databaseOf(ctx: EngineContext, name: string): EngineDatabase {
  const db = ctx.databases.get(name);
  if (db === undefined) throw new Error(`database not configured: ${name}`);
  return db;
}

/** The engine KEK of `name`. @throws {Error} when it is not configured. */
export function kekOf(ctx: EngineContext, name: string): EngineKek {
  const kek = ctx.keks.get(name);
  if (kek === undefined) throw new Error(`kek not configured: ${name}`);
  return kek;
}
