/** `rekey rotate <kek>`: starts (or joins) a rotation run and optionally follows it. */
import { parseArgs } from 'node:util';

import { triggerRotation } from '../../engine/trigger-run.ts';
import { CliError, type CliIo, EXIT, json, line, loadCliConfig } from '../cli-context.ts';
import { openControlParts } from '../open-parts.ts';
import { type RunSummary, summarizeRun } from '../run-summary.ts';

export const ROTATE_HELP = `Usage: rekey rotate <kek> [--databases a,b] [--target REF] [--wait] [--json]

Starts a rotation run of KEK name <kek>: a worker rotates the KEK (the new version becomes
primary) or takes --target, then rewraps every DEK on older versions in every database,
verifies and (if configured) retires. If the KEK already has an active run, joins it and
re-enqueues its work (this also resumes a run after a Redis loss). Prints the run id.

Options:
  --databases a,b   only these configured databases (default: all)
  --target REF      move DEKs to this existing version instead of rotating
  --wait            follow the run to its end: a progress bar on a terminal, JSON lines
                    otherwise (or with --json); exit status 0 when it completed, 1 when it failed
  --json            JSON output (see README: "rotate --json")
  --config FILE     config file (default: $REKEY_CONFIG or ./rekey.config.json)
  --help            this text`;

export async function rotateCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      databases: { type: 'string' },
      target: { type: 'string' },
      wait: { type: 'boolean' },
      json: { type: 'boolean' },
      config: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    line(io.stdout, ROTATE_HELP);
    return EXIT.ok;
  }
  const kekName = positionals[0];
  if (kekName === undefined) throw new CliError('rotate: missing <kek>', EXIT.usage);
  const config = loadCliConfig(values.config, io);
  if (!config.keks.some((k) => k.name === kekName)) {
    throw new CliError(`rotate: kek ${kekName} is not configured`, EXIT.usage);
  }
  const configured = config.databases.map((d) => d.name);
  const databases = values.databases === undefined ? configured : values.databases.split(',');
  const unknown = databases.filter((d) => !configured.includes(d));
  if (unknown.length > 0)
    throw new CliError(`rotate: unknown databases ${unknown.join(',')}`, EXIT.usage);

  const parts = await openControlParts(config);
  try {
    const { run, joined } = await triggerRotation(parts, {
      kekName,
      databases,
      trigger: 'cli',
      actor: `cli:${io.env.USER ?? 'unknown'}`,
      ...(values.target === undefined ? {} : { targetRef: values.target }),
    });
    const asJson = values.json === true || (values.wait === true && io.stdout.isTTY !== true);
    if (asJson) json(io.stdout, { event: 'run', runId: run.id, kekName, joined });
    else line(io.stdout, `${joined ? 'joined' : 'started'} run ${run.id}`);
    if (values.wait !== true) return EXIT.ok;

    for (;;) {
      const current = await parts.control.getRun(run.id);
      if (current === undefined) throw new CliError(`run ${run.id} vanished`);
      const summary = await summarizeRun(parts.control, current);
      if (asJson) json(io.stdout, { event: 'progress', ...summary });
      else io.stdout.write(`\r${progressBar(summary)}`);
      if (summary.phase === 'completed' || summary.phase === 'failed') {
        if (!asJson)
          line(
            io.stdout,
            `\n${summary.phase}${summary.error === null ? '' : `: ${summary.error}`}`,
          );
        return summary.phase === 'completed' ? EXIT.ok : EXIT.failed;
      }
      await new Promise((resolve) => setTimeout(resolve, asJson ? 1_000 : 250));
    }
  } finally {
    await parts.close();
  }
}

function progressBar(s: RunSummary): string {
  const total = Math.max(1, s.totals.planned);
  const handled = s.totals.done + s.totals.skipped + s.totals.failed;
  const fraction = Math.min(1, handled / total);
  const width = 30;
  const filled = Math.round(fraction * width);
  const rate = s.databases.reduce((n, d) => n + d.ratePerSecond, 0);
  return `${s.phase.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ${handled}/${s.totals.planned}  ${rate}/s  skipped ${s.totals.skipped}  failed ${s.totals.failed}   `;
}
