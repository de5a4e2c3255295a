/**
 * Finds, parses and validates the worker configuration. Every problem is listed by its JSON
 * path in one `ConfigError`, so an operator fixes them all at once and nothing starts half-way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

import { ConfigError } from '@rekey/crypto-core';
import type { ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';

import schema from '../../config.schema.json' with { type: 'json' };
import { parseDuration } from './duration.ts';
import { isSecretRef, readSecret, Secret, type SecretRef } from './secret.ts';
import type {
  ControlConfig,
  DatabaseConfig,
  KekConfig,
  RedisConfig,
  ScheduleConfig,
  WorkerConfig,
} from './worker-config.ts';

/** A `ConfigError` that lists every problem as `path: message`. */
export class ConfigProblemsError extends ConfigError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid config:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

const ajv = new Ajv2020({ allErrors: true, strict: false, discriminator: true });
const validateShape = ajv.compile(schema);

const DEFAULT_TABLE = 'rekey_deks';
const SECRET_SETTING = /(password|passphrase|secret|token|pin|credential|privatekey|apikey)/i;

/**
 * The config file path: `--config` first, then `REKEY_CONFIG`, then `./rekey.config.json`,
 * relative to the directory the command was started in.
 */
export function findConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  // `pnpm rekey` runs in the worker package: INIT_CWD is where the operator typed it.
  return resolve(
    env.INIT_CWD ?? process.cwd(),
    explicit ?? env.REKEY_CONFIG ?? 'rekey.config.json',
  );
}

/**
 * Reads and validates a config file.
 *
 * @throws {ConfigProblemsError} listing every problem by path.
 */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  if (!existsSync(path)) throw new ConfigProblemsError([`${path}: config file not found`]);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    // V8's message quotes the text around the error, which could be a secret pasted inline:
    // keep only where it is.
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    const where = at === undefined ? '' : ` (at character ${at})`;
    throw new ConfigProblemsError([`${path}: not valid JSON${where}`]);
  }
  return parseConfig(raw, dirname(path), env);
}

/**
 * Validates a parsed config object and resolves its secrets.
 *
 * @throws {ConfigProblemsError} listing every problem by path.
 */
export function parseConfig(
  raw: unknown,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
): WorkerConfig {
  if (!validateShape(raw)) {
    throw new ConfigProblemsError(shapeProblems(validateShape.errors ?? []));
  }
  const problems: string[] = [];
  const input = raw as unknown as RawConfig;

  const secretOrText = (value: string | SecretRef, path: string): Secret | string => {
    if (typeof value === 'string') {
      if (hasInlinePassword(value)) {
        problems.push(`${path}: inline credentials are refused; use {"env": ...} or {"file": ...}`);
      }
      return value;
    }
    const secret = readSecret(value, env, baseDir);
    if (secret instanceof Secret) return secret;
    problems.push(`${path}: ${secret.problem}`);
    return '';
  };

  const redis = redisConfig(input.redis, secretOrText, problems);
  const control = controlConfig(input.control, baseDir, secretOrText);
  const databases = input.databases.map((db, i): DatabaseConfig => {
    const path = `/databases/${i}`;
    if (db.adapter !== 'memory' && db.connection === undefined) {
      problems.push(`${path}/connection: required for adapter ${db.adapter}`);
    }
    let connection =
      db.connection === undefined ? undefined : secretOrText(db.connection, `${path}/connection`);
    if (db.adapter === 'sqlite' && typeof connection === 'string' && connection !== ':memory:') {
      connection = isAbsolute(connection) ? connection : resolve(baseDir, connection);
    }
    return {
      name: db.name,
      adapter: db.adapter,
      connection,
      table: db.table ?? DEFAULT_TABLE,
      concurrency: db.concurrency ?? input.limits?.databaseConcurrency ?? 2,
      settings: resolveSettings(db.settings ?? {}, `${path}/settings`, env, baseDir, problems),
    };
  });
  const keks = input.keks.map((kek, i): KekConfig => {
    const path = `/keks/${i}`;
    return {
      name: kek.name,
      provider: kek.provider,
      settings: resolveSettings(kek.settings ?? {}, `${path}/settings`, env, baseDir, problems),
      schedule: scheduleConfig(kek.schedule, `${path}/schedule`, problems),
      retireAfterMs: kek.retireAfter === undefined ? undefined : parseDuration(kek.retireAfter),
      requestsPerSecond: kek.requestsPerSecond ?? input.limits?.providerRequestsPerSecond,
    };
  });

  for (const name of duplicates(databases.map((d) => d.name))) {
    problems.push(`/databases: duplicate name ${name}`);
  }
  for (const name of duplicates(keks.map((k) => k.name)))
    problems.push(`/keks: duplicate name ${name}`);
  if (problems.length > 0) throw new ConfigProblemsError(problems);

  const limits = input.limits ?? {};
  return {
    baseDir,
    redis,
    control,
    databases,
    keks,
    limits: {
      batchSize: limits.batchSize ?? 1000,
      batchesPerWorker: limits.batchesPerWorker,
      providerConcurrency: limits.providerConcurrency ?? 32,
      maxSweeps: limits.maxSweeps ?? 10,
      sweepDelayMs: parseDuration(limits.sweepDelay ?? '5s') as number,
      shutdownDeadlineMs: parseDuration(limits.shutdownDeadline ?? '30s') as number,
      progressIntervalMs: parseDuration(limits.progressInterval ?? '1s') as number,
    },
  };
}

interface RawConfig {
  redis: {
    url?: string | SecretRef;
    cluster?: { nodes: (string | SecretRef)[] };
    prefix?: string;
  };
  control:
    | { kind: 'sqlite'; path: string; tablePrefix?: string }
    | { kind: 'postgres'; url: string | SecretRef; tablePrefix?: string };
  databases: {
    name: string;
    adapter: string;
    connection?: string | SecretRef;
    table?: string;
    concurrency?: number;
    settings?: Record<string, unknown>;
  }[];
  keks: {
    name: string;
    provider: string;
    settings?: Record<string, unknown>;
    schedule?: { cron: string; every?: undefined } | { cron?: undefined; every: number | string };
    retireAfter?: number | string;
    requestsPerSecond?: number;
  }[];
  limits?: {
    batchSize?: number;
    batchesPerWorker?: number;
    databaseConcurrency?: number;
    providerRequestsPerSecond?: number;
    providerConcurrency?: number;
    maxSweeps?: number;
    sweepDelay?: number | string;
    shutdownDeadline?: number | string;
    progressInterval?: number | string;
  };
}

/** Exactly one of `url` (one server) and `cluster` (a Redis Cluster's seed nodes). */
function redisConfig(
  input: RawConfig['redis'],
  secretOrText: (value: string | SecretRef, path: string) => Secret | string,
  problems: string[],
): RedisConfig {
  if (input.url === undefined && input.cluster === undefined) {
    problems.push('/redis: set url (one server) or cluster.nodes (a Redis Cluster)');
  }
  if (input.url !== undefined && input.cluster !== undefined) {
    problems.push('/redis: set url or cluster, not both');
  }
  return {
    url: input.url === undefined ? undefined : secretOrText(input.url, '/redis/url'),
    cluster:
      input.cluster === undefined
        ? undefined
        : {
            nodes: input.cluster.nodes.map((node, i) =>
              secretOrText(node, `/redis/cluster/nodes/${i}`),
            ),
          },
    prefix: input.prefix ?? '{rekey}',
  };
}

function controlConfig(
  control: RawConfig['control'],
  baseDir: string,
  secretOrText: (value: string | SecretRef, path: string) => Secret | string,
): ControlConfig {
  const tablePrefix = control.tablePrefix ?? 'rekey_';
  if (control.kind === 'sqlite') {
    const path = isAbsolute(control.path) ? control.path : resolve(baseDir, control.path);
    return { kind: 'sqlite', path, tablePrefix };
  }
  const url = secretOrText(control.url, '/control/url');
  return {
    kind: 'postgres',
    url: typeof url === 'string' ? new Secret(url, 'config') : url,
    tablePrefix,
  };
}

function scheduleConfig(
  schedule: RawConfig['keks'][number]['schedule'],
  path: string,
  problems: string[],
): ScheduleConfig | undefined {
  if (schedule === undefined) return undefined;
  if ('cron' in schedule && schedule.cron !== undefined) {
    const fields = schedule.cron.trim().split(/\s+/);
    if (fields.length < 5 || fields.length > 6) {
      problems.push(`${path}/cron: expected 5 or 6 fields, got ${fields.length}`);
    }
    return { cron: schedule.cron };
  }
  const everyMs = parseDuration(schedule.every) as number;
  if (everyMs < 1000) problems.push(`${path}/every: expected at least 1s`);
  return { everyMs };
}

/** Resolves `{env}`/`{file}` references in plugin settings and refuses inline secrets. */
function resolveSettings(
  settings: Record<string, unknown>,
  path: string,
  env: NodeJS.ProcessEnv,
  baseDir: string,
  problems: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (isSecretRef(value)) {
      const secret = readSecret(value, env, baseDir);
      if (secret instanceof Secret) out[key] = secret;
      else problems.push(`${path}/${key}: ${secret.problem}`);
      continue;
    }
    if (SECRET_SETTING.test(key) && typeof value === 'string') {
      problems.push(`${path}/${key}: secrets must be {"env": ...} or {"file": ...} references`);
      continue;
    }
    out[key] = value;
  }
  return out;
}

function hasInlinePassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup];
}

/**
 * One line per schema violation. A `oneOf` between a string and an object reports a type error
 * for the branch that was not meant: it is dropped when a more specific error names the path.
 */
function shapeProblems(errors: readonly ErrorObject[]): string[] {
  const lines = new Set<string>();
  const specific = (e: ErrorObject): boolean =>
    errors.some(
      (o) =>
        o !== e &&
        o.keyword !== 'type' &&
        o.keyword !== 'oneOf' &&
        o.instancePath.startsWith(e.instancePath),
    );
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'if') continue;
    if (e.keyword === 'type' && specific(e)) continue;
    const at = e.instancePath === '' ? '/' : e.instancePath;
    if (e.keyword === 'additionalProperties') {
      lines.add(
        `${at}: unknown property ${(e.params as { additionalProperty: string }).additionalProperty}`,
      );
    } else if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      lines.add(`${at === '/' ? '' : at}/${missing}: required`);
    } else {
      lines.add(`${at}: ${e.message ?? e.keyword}`);
    }
  }
  return [...lines];
}
