/** `rekey init`: writes a starter config with embedded defaults (SQLite, local keyring). */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { CliError, type CliIo, EXIT, line } from '../cli-context.ts';

export const INIT_HELP = `Usage: rekey init [--path FILE] [--force]

Writes a starter config: SQLite control database and DEK file, a local keyring, a monthly
rotation schedule (UTC). Refuses to overwrite an existing file unless --force.

Options:
  --path FILE   where to write (default: $REKEY_CONFIG or ./rekey.config.json)
  --force       overwrite an existing file
  --help        this text`;

/** The starter configuration. */
export function starterConfig(): Record<string, unknown> {
  return {
    $schema: './node_modules/@rekey/worker/config.schema.json',
    redis: { url: 'redis://127.0.0.1:6379', prefix: '{rekey}' },
    control: { kind: 'sqlite', path: 'rekey-control.db' },
    databases: [
      { name: 'main', adapter: 'sqlite', connection: 'rekey-deks.db', table: 'rekey_deks' },
    ],
    keks: [
      {
        name: 'default',
        provider: 'local',
        settings: { path: 'rekey-keyring.json' },
        schedule: { cron: '0 3 1 * *' },
      },
    ],
    limits: { batchSize: 1000, databaseConcurrency: 2 },
  };
}

export async function initCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { path: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    line(io.stdout, INIT_HELP);
    return EXIT.ok;
  }
  const cwd = io.env.INIT_CWD ?? process.cwd();
  const path = resolve(cwd, values.path ?? io.env.REKEY_CONFIG ?? 'rekey.config.json');
  if (existsSync(path) && values.force !== true) {
    throw new CliError(`${path} exists; use --force to overwrite`, EXIT.usage);
  }
  writeFileSync(path, `${JSON.stringify(starterConfig(), null, 2)}\n`, { mode: 0o600 });
  line(io.stdout, `wrote ${path}`);
  return EXIT.ok;
}
