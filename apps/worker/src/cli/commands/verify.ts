/** `rekey verify <kek>`: DEKs still on non-primary versions (must be 0), plus a sample unwrap. */
import { parseArgs } from 'node:util';

import { CliError, type CliIo, EXIT, json, line, loadCliConfig, table } from '../cli-context.ts';
import { openStoresAndProviders } from '../open-stores.ts';

export const VERIFY_HELP = `Usage: rekey verify <kek> [--sample N] [--json]

Counts, in every database, the DEKs of KEK name <kek> that are not on its primary version, and
unwraps a sample of DEKs on the primary. Exit status 0 when the count is 0 everywhere and the
sample unwraps, 1 otherwise.

Options:
  --sample N      DEKs to unwrap per database (default 10)
  --json          JSON output (see README: "verify --json")
  --config FILE   config file (default: $REKEY_CONFIG or ./rekey.config.json)
  --help          this text`;

export async function verifyCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      sample: { type: 'string' },
      json: { type: 'boolean' },
      config: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    line(io.stdout, VERIFY_HELP);
    return EXIT.ok;
  }
  const kekName = positionals[0];
  if (kekName === undefined) throw new CliError('verify: missing <kek>', EXIT.usage);
  const config = loadCliConfig(values.config, io);
  const opened = await openStoresAndProviders(config);
  try {
    const provider = opened.providers.get(kekName);
    if (provider === undefined)
      throw new CliError(`verify: kek ${kekName} is not configured`, EXIT.usage);
    const primary = await provider.primary(kekName);
    const sampleSize = Number(values.sample ?? 10);
    const databases = [];
    for (const [name, store] of opened.stores) {
      const counts = await store.countByRef(kekName);
      const behind = counts.filter((c) => c.kekRef !== primary && c.count > 0);
      const sample = await store.scan({
        kekName,
        kekRefs: [primary],
        limit: Math.max(1, sampleSize),
      });
      let unwrapped = 0;
      for (const r of sample.slice(0, sampleSize)) {
        try {
          const binding = { dekId: r.id, scope: r.scope, kekName };
          (await provider.unwrap({ kekRef: r.kekRef, bytes: r.wrapped }, binding)).fill(0);
          unwrapped++;
        } catch {
          // Counted below as a sample failure; the error itself may not be printed.
        }
      }
      databases.push({
        name,
        remaining: behind.reduce((n, c) => n + c.count, 0),
        byRef: Object.fromEntries(behind.map((c) => [c.kekRef, c.count])),
        sampled: Math.min(sample.length, sampleSize),
        sampleFailures: Math.min(sample.length, sampleSize) - unwrapped,
      });
    }
    const remaining = databases.reduce((n, d) => n + d.remaining, 0);
    const sampleFailures = databases.reduce((n, d) => n + d.sampleFailures, 0);
    const ok = remaining === 0 && sampleFailures === 0;
    if (values.json === true) {
      json(io.stdout, { kekName, primary, ok, remaining, sampleFailures, databases });
    } else {
      line(io.stdout, `kek ${kekName}  primary ${primary}`);
      const rows = databases.map((d) => [
        d.name,
        d.remaining,
        `${d.sampled - d.sampleFailures}/${d.sampled}`,
      ]);
      line(io.stdout, table([['DATABASE', 'NOT ON PRIMARY', 'SAMPLE UNWRAPPED'], ...rows]));
      line(
        io.stdout,
        ok
          ? 'ok'
          : `NOT OK: ${remaining} DEKs not on the primary, ${sampleFailures} sample failures`,
      );
    }
    return ok ? EXIT.ok : EXIT.failed;
  } finally {
    await opened.close();
  }
}
