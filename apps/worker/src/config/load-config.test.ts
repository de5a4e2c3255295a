import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConfigProblemsError, loadConfigFile, parseConfig } from './load-config.ts';

const valid = {
  redis: { url: 'redis://127.0.0.1:6379', prefix: '{rekey}' },
  control: { kind: 'sqlite', path: 'control.db' },
  databases: [
    { name: 'main', adapter: 'postgres', connection: { env: 'DB_URL' }, table: 'deks' },
    { name: 'local', adapter: 'sqlite', connection: 'deks.db' },
  ],
  keks: [
    {
      name: 'pii',
      provider: 'local',
      settings: { path: 'keyring.json', passphrase: { env: 'KEYRING_PASS' } },
      schedule: { cron: '0 3 * * 0' },
      retireAfter: '7d',
    },
  ],
  limits: { batchSize: 2000 },
};
const env = { DB_URL: 'postgres://u:p@h/db', KEYRING_PASS: 'hunter2' };

function problemsOf(raw: unknown, environment: NodeJS.ProcessEnv = env): readonly string[] {
  try {
    parseConfig(raw, '/etc/rekey', environment);
  } catch (error) {
    if (error instanceof ConfigProblemsError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseConfig', () => {
  it('resolves defaults, relative paths and secret references', () => {
    const config = parseConfig(valid, '/etc/rekey', env);
    expect(config.redis.prefix).toBe('{rekey}');
    expect(config.control).toMatchObject({ kind: 'sqlite', path: '/etc/rekey/control.db' });
    expect(config.databases[1]).toMatchObject({
      connection: '/etc/rekey/deks.db',
      table: 'rekey_deks',
      concurrency: 2,
    });
    expect(config.keks[0]?.retireAfterMs).toBe(7 * 86_400_000);
    expect(config.limits.batchSize).toBe(2000);
  });

  it('accepts a Redis Cluster by its seed nodes, secret references included', () => {
    const raw = {
      ...valid,
      redis: { cluster: { nodes: ['redis://10.0.0.1:7000', { env: 'NODE2' }] } },
    };
    const config = parseConfig(raw, '/etc/rekey', { ...env, NODE2: 'redis://u:s3cret@10.0.0.2' });
    expect(config.redis.url).toBeUndefined();
    expect(config.redis.prefix).toBe('{rekey}');
    expect(config.redis.cluster?.nodes[0]).toBe('redis://10.0.0.1:7000');
    expect(JSON.stringify(config)).not.toContain('s3cret');
  });

  it('requires exactly one of redis.url and redis.cluster, and a node at least', () => {
    expect(problemsOf({ ...valid, redis: { prefix: '{rekey}' } })).toEqual([
      '/redis: set url (one server) or cluster.nodes (a Redis Cluster)',
    ]);
    const both = { url: 'redis://h', cluster: { nodes: ['redis://h:7000'] } };
    expect(problemsOf({ ...valid, redis: both })).toEqual(['/redis: set url or cluster, not both']);
    expect(problemsOf({ ...valid, redis: { cluster: { nodes: [] } } })).toEqual([
      '/redis/cluster/nodes: must NOT have fewer than 1 items',
    ]);
    expect(problemsOf({ ...valid, redis: { cluster: { nodes: ['redis://u:pw@h:1'] } } })).toEqual([
      '/redis/cluster/nodes/0: inline credentials are refused; use {"env": ...} or {"file": ...}',
    ]);
  });

  it('never prints a resolved secret', () => {
    const config = parseConfig(valid, '/etc/rekey', env);
    const printed = JSON.stringify(config) + String(config.databases[0]?.connection);
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain('u:p@');
    expect(printed).toContain('[secret env:DB_URL]');
  });

  it('lists every problem by path at once', () => {
    const broken = {
      ...valid,
      redis: { url: 'redis://:pw@127.0.0.1:6379' },
      databases: [
        { name: 'main', adapter: 'postgres', connection: { env: 'MISSING' } },
        { name: 'main', adapter: 'mysql' },
      ],
      keks: [
        {
          name: 'pii',
          provider: 'local',
          settings: { passphrase: 'inline' },
          schedule: { cron: '* *' },
        },
      ],
    };
    expect(problemsOf(broken, {})).toEqual([
      '/redis/url: inline credentials are refused; use {"env": ...} or {"file": ...}',
      '/databases/0/connection: environment variable MISSING is not set',
      '/databases/1/connection: required for adapter mysql',
      '/keks/0/settings/passphrase: secrets must be {"env": ...} or {"file": ...} references',
      '/keks/0/schedule/cron: expected 5 or 6 fields, got 2',
      '/databases: duplicate name main',
    ]);
  });

  it('lists schema problems by path, without noise from the branches not meant', () => {
    const problems = problemsOf({
      ...valid,
      redis: { url: { env: 'X', file: 'y' } },
      keks: [{ name: 'Bad Name', provider: 'local', schedule: { every: '3 weeks' } }],
    });
    expect(problems).toEqual([
      '/redis/url: must NOT have more than 1 properties',
      '/keks/0/name: must match pattern "^[a-z][a-z0-9_-]{0,62}$"',
      '/keks/0/schedule/every: must match pattern "^[0-9]+(ms|s|m|h|d)$"',
    ]);
  });

  it('refuses batch sizes outside 1,000 to 5,000 and unknown properties', () => {
    const problems = problemsOf({ ...valid, limits: { batchSize: 100 }, extra: 1 });
    expect(problems).toContain('/: unknown property extra');
    expect(problems).toContain('/limits/batchSize: must be >= 1000');
  });

  it('reports broken JSON by position without quoting the text, which may hold a secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-config-'));
    try {
      const path = join(dir, 'rekey.json');
      writeFileSync(path, '{ "redis": "redis://:hunter2-secret@127.0.0.1:6379" oops }');
      let problems: readonly string[] = [];
      try {
        loadConfigFile(path, {});
      } catch (error) {
        problems = (error as ConfigProblemsError).problems;
      }
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/not valid JSON \(at character \d+\)$/);
      expect(problems.join('\n')).not.toContain('hunter2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
