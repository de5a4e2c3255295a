/** `rekey seed <kek> --database d --count n`: creates DEKs for demos and benchmarks. */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import { type NewDekRecord, newDekId } from '@rekey/crypto-core';

import { CliError, type CliIo, EXIT, json, line, loadCliConfig } from '../cli-context.ts';
import { openStoresAndProviders } from '../open-stores.ts';

interface BulkInsert {
  insertMany(records: readonly NewDekRecord[]): Promise<void>;
}

export const SEED_HELP = `Usage: rekey seed <kek> --database NAME --count N [--scope S] [--json]

Creates N random DEKs wrapped under the primary version of <kek> (rotating it once if it has no
version yet) in one configured database. For demos and benchmarks.

Options:
  --database NAME   configured database (required)
  --count N         how many (required)
  --scope S         scope of the DEKs (default "seed")
  --json            JSON output: {"database","kekName","kekRef","count"}
  --config FILE     config file (default: $REKEY_CONFIG or ./rekey.config.json)
  --help            this text`;

export async function seedCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      database: { type: 'string' },
      count: { type: 'string' },
      scope: { type: 'string' },
      json: { type: 'boolean' },
      config: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    line(io.stdout, SEED_HELP);
    return EXIT.ok;
  }
  const kekName = positionals[0];
  const count = Number(values.count);
  if (
    kekName === undefined ||
    values.database === undefined ||
    !Number.isInteger(count) ||
    count < 1
  ) {
    throw new CliError('seed: expected <kek> --database NAME --count N', EXIT.usage);
  }
  const config = loadCliConfig(values.config, io);
  const opened = await openStoresAndProviders(config);
  try {
    const store = opened.stores.get(values.database);
    const provider = opened.providers.get(kekName);
    if (store === undefined)
      throw new CliError(`seed: unknown database ${values.database}`, EXIT.usage);
    if (provider === undefined)
      throw new CliError(`seed: kek ${kekName} is not configured`, EXIT.usage);
    if ((await provider.describe(kekName)).length === 0) await provider.rotate(kekName);
    const scope = values.scope ?? 'seed';
    let kekRef = '';
    // The SQL stores have a one-statement bulk insert beyond the port; use it where it exists.
    const bulk = (store as Partial<BulkInsert>).insertMany?.bind(store);
    for (let done = 0; done < count; ) {
      const records: NewDekRecord[] = [];
      for (let i = 0; i < Math.min(1_000, count - done); i++) {
        const id = newDekId();
        const dek = new Uint8Array(randomBytes(32));
        const wrapped = await provider.wrap(dek, { dekId: id, scope, kekName });
        dek.fill(0);
        kekRef = wrapped.kekRef;
        records.push({ id, scope, kekName, kekRef: wrapped.kekRef, wrapped: wrapped.bytes });
      }
      if (bulk !== undefined) await bulk(records);
      else await Promise.all(records.map((r) => store.insert(r)));
      done += records.length;
    }
    if (values.json === true)
      json(io.stdout, { database: values.database, kekName, kekRef, count });
    else line(io.stdout, `seeded ${count} DEKs under ${kekRef} in ${values.database}`);
    return EXIT.ok;
  } finally {
    await opened.close();
  }
}
