/** `rekey inventory`: DEK counts per database, KEK name and KEK ref, primary marked. */
import { parseArgs } from 'node:util';

import { type CliIo, EXIT, json, line, loadCliConfig, table } from '../cli-context.ts';
import { openStoresAndProviders } from '../open-stores.ts';

export const INVENTORY_HELP = `Usage: rekey inventory [--json]

Counts DEKs per database, KEK name and KEK ref, marking the primary version of every configured
KEK name.

Options:
  --json          JSON output (see README: "inventory --json")
  --config FILE   config file (default: $REKEY_CONFIG or ./rekey.config.json)
  --help          this text`;

/** One inventory row. */
export interface InventoryRow {
  readonly database: string;
  readonly kekName: string;
  readonly kekRef: string;
  readonly count: number;
  readonly primary: boolean;
}

export async function inventoryCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, config: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    line(io.stdout, INVENTORY_HELP);
    return EXIT.ok;
  }
  const config = loadCliConfig(values.config, io);
  const opened = await openStoresAndProviders(config);
  try {
    const primaries = new Map<string, string>();
    for (const [name, provider] of opened.providers) {
      primaries.set(name, await provider.primary(name).catch(() => ''));
    }
    const rows: InventoryRow[] = [];
    for (const [database, store] of opened.stores) {
      for (const c of await store.countByRef()) {
        rows.push({
          database,
          kekName: c.kekName,
          kekRef: c.kekRef,
          count: c.count,
          primary: primaries.get(c.kekName) === c.kekRef,
        });
      }
    }
    if (values.json === true) {
      json(io.stdout, { primaries: Object.fromEntries(primaries), rows });
      return EXIT.ok;
    }
    const body = rows.map((r) => [
      r.database,
      r.kekName,
      r.kekRef + (r.primary ? ' *' : ''),
      r.count,
    ]);
    line(io.stdout, table([['DATABASE', 'KEK', 'REF (* primary)', 'DEKS'], ...body]));
    return EXIT.ok;
  } finally {
    await opened.close();
  }
}
