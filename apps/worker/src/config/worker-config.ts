/** The validated, resolved worker configuration that every part of the worker reads. */
import type { Secret } from './secret.ts';

/** Built-in DekStore adapters; anything else is a module specifier. */
export const BUILT_IN_ADAPTERS: readonly string[] = ['postgres', 'mysql', 'sqlite', 'memory'];

/** Built-in KekProvider plugins; anything else is a module specifier. */
export const BUILT_IN_PROVIDERS: readonly string[] = [
  'local',
  'platform-secret',
  'aws-kms',
  'pkcs11',
  'memory',
];

/** Where run records, progress and audit live. */
export type ControlConfig =
  | { readonly kind: 'sqlite'; readonly path: string; readonly tablePrefix: string }
  | { readonly kind: 'postgres'; readonly url: Secret; readonly tablePrefix: string };

/** One managed database holding a DEK table. */
export interface DatabaseConfig {
  readonly name: string;
  /** `postgres`, `mysql`, `sqlite`, `memory` or a module specifier. */
  readonly adapter: string;
  /** Connection URL or SQLite file path; absent for `memory`. */
  readonly connection: Secret | string | undefined;
  readonly table: string;
  /** Batch jobs of this database running at once, across all workers. */
  readonly concurrency: number;
  readonly settings: Readonly<Record<string, unknown>>;
}

/** A rotation schedule, evaluated in UTC. */
export type ScheduleConfig = { readonly cron: string } | { readonly everyMs: number };

/** One logical KEK name and the provider that holds its versions. */
export interface KekConfig {
  readonly name: string;
  /** `local`, `platform-secret`, `aws-kms`, `pkcs11`, `memory` or a module specifier. */
  readonly provider: string;
  /** Provider settings; `{env}`/`{file}` references are resolved to `Secret` values. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly schedule: ScheduleConfig | undefined;
  /** Disable old versions this long after a verified run; never when undefined. */
  readonly retireAfterMs: number | undefined;
  /** Provider requests per second shared by all workers; unlimited when undefined. */
  readonly requestsPerSecond: number | undefined;
}

/** Batch sizes, concurrency and pacing. */
export interface LimitsConfig {
  readonly batchSize: number;
  /** Batches of one database one worker process runs at once; undefined: the database's. */
  readonly batchesPerWorker?: number | undefined;
  readonly providerConcurrency: number;
  readonly maxSweeps: number;
  readonly sweepDelayMs: number;
  readonly shutdownDeadlineMs: number;
  readonly progressIntervalMs: number;
}

/** Where Redis is: one server (`url`) or a Redis Cluster (`cluster.nodes`), never both. */
export interface RedisConfig {
  /** `redis://` or `rediss://` URL of a single server; undefined when `cluster` is set. */
  readonly url: Secret | string | undefined;
  /** Seed nodes of a Redis Cluster (any reachable one suffices); the rest are discovered. */
  readonly cluster: { readonly nodes: readonly (Secret | string)[] } | undefined;
  /** Key prefix of every key, a hash tag such as `{rekey}` so all keys share one slot. */
  readonly prefix: string;
}

/** The whole configuration, validated and with secrets resolved. */
export interface WorkerConfig {
  /** Directory of the config file: relative paths in it resolve against this. */
  readonly baseDir: string;
  readonly redis: RedisConfig;
  readonly control: ControlConfig;
  readonly databases: readonly DatabaseConfig[];
  readonly keks: readonly KekConfig[];
  readonly limits: LimitsConfig;
}

/** The value of a `Secret | string` setting. */
export function revealed(value: Secret | string): string {
  return typeof value === 'string' ? value : value.reveal();
}
