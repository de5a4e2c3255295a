/** `rekey retire <kek-ref>`: disables an old version, refused while any DEK references it. */
import { parseArgs } from 'node:util';

import { openControlStore } from '../../control/open-control-store.ts';
import { CliError, type CliIo, EXIT, json, line, loadCliConfig } from '../cli-context.ts';
import { openStoresAndProviders } from '../open-stores.ts';

export const RETIRE_HELP = `Usage: rekey retire <kek-ref> [--json]

Disables one old KEK version: it no longer unwraps, its material is kept (never destroyed).
Refused when it is the primary, or while any configured database still holds a DEK on it.
Audited in the control database.

Options:
  --json          JSON output (see README: "retire --json")
  --config FILE   config file (default: $REKEY_CONFIG or ./rekey.config.json)
  --help          this text`;

export async function retireCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, config: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    line(io.stdout, RETIRE_HELP);
    return EXIT.ok;
  }
  const ref = positionals[0];
  if (ref === undefined) throw new CliError('retire: missing <kek-ref>', EXIT.usage);
  const config = loadCliConfig(values.config, io);
  const opened = await openStoresAndProviders(config);
  try {
    let kekName: string | undefined;
    for (const [name, provider] of opened.providers) {
      if ((await provider.describe(name)).some((v) => v.ref === ref)) kekName = name;
    }
    if (kekName === undefined) throw new CliError(`retire: no configured kek has version ${ref}`);
    const provider = opened.providers.get(kekName);
    if (provider === undefined) return EXIT.failed;
    let references = 0;
    for (const store of opened.stores.values()) {
      references += (await store.countByRef(kekName)).find((c) => c.kekRef === ref)?.count ?? 0;
    }
    const primary = (await provider.primary(kekName)) === ref;
    const refused = primary
      ? 'it is the primary version'
      : references > 0
        ? `${references} DEKs still reference it`
        : null;
    if (refused === null) {
      await provider.disable(ref);
      const control = await openControlStore(config.control);
      await control.audit({
        actor: `cli:${io.env.USER ?? 'unknown'}`,
        action: 'kek.retired',
        kekName,
        kekRef: ref,
        runId: null,
        detail: {},
      });
      await control.close();
    }
    if (values.json === true)
      json(io.stdout, {
        kekRef: ref,
        kekName,
        retired: refused === null,
        references,
        reason: refused,
      });
    else line(io.stdout, refused === null ? `retired ${ref}` : `refused: ${refused}`);
    return refused === null ? EXIT.ok : EXIT.failed;
  } finally {
    await opened.close();
  }
}
