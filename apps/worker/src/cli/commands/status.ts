/** `rekey status [run]`: runs with per-database progress, rate, ETA and errors. */
import { parseArgs } from 'node:util';

import { CliError, type CliIo, EXIT, json, line, loadCliConfig, table } from '../cli-context.ts';
import { openControlParts } from '../open-parts.ts';
import { summarizeRun } from '../run-summary.ts';

export const STATUS_HELP = `Usage: rekey status [run] [--json] [--limit N]

Without a run id: the most recent runs. With one: that run with per-database progress, rate,
ETA and error. Reads the control database only.

Options:
  --json          JSON output (see README: "status --json")
  --limit N       how many recent runs (default 20)
  --config FILE   config file (default: $REKEY_CONFIG or ./rekey.config.json)
  --help          this text`;

export async function statusCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      limit: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    line(io.stdout, STATUS_HELP);
    return EXIT.ok;
  }
  const config = loadCliConfig(values.config, io);
  const parts = await openControlParts(config);
  try {
    const runId = positionals[0];
    const runs =
      runId === undefined
        ? await parts.control.listRuns({ limit: Number(values.limit ?? 20) })
        : [await parts.control.getRun(runId)];
    if (runs[0] === undefined && runId !== undefined) throw new CliError(`no run ${runId}`);
    const summaries = [];
    for (const run of runs)
      if (run !== undefined) summaries.push(await summarizeRun(parts.control, run));
    if (values.json === true) {
      json(io.stdout, runId === undefined ? { runs: summaries } : summaries[0]);
      return EXIT.ok;
    }
    if (runId === undefined) {
      const rows = summaries.map((s) => [
        s.id,
        s.kekName,
        s.phase,
        s.targetRef ?? '-',
        `${s.totals.done}/${s.totals.planned}`,
        s.createdAt,
      ]);
      line(io.stdout, table([['RUN', 'KEK', 'PHASE', 'TARGET', 'DONE', 'CREATED'], ...rows]));
      return EXIT.ok;
    }
    const s = summaries[0];
    if (s === undefined) return EXIT.failed;
    line(
      io.stdout,
      `run ${s.id}  kek ${s.kekName}  phase ${s.phase}  target ${s.targetRef ?? '-'}  sweep ${s.sweep}`,
    );
    if (s.error !== null) line(io.stdout, `error: ${s.error}`);
    const rows = s.databases.map((d) => [
      d.name,
      d.planned,
      d.done,
      d.skipped,
      d.failed,
      d.remaining,
      `${d.ratePerSecond}/s`,
      d.etaSeconds === null ? '-' : `${d.etaSeconds}s`,
    ]);
    line(
      io.stdout,
      table([
        ['DATABASE', 'PLANNED', 'DONE', 'SKIPPED', 'FAILED', 'REMAINING', 'RATE', 'ETA'],
        ...rows,
      ]),
    );
    return EXIT.ok;
  } finally {
    await parts.close();
  }
}
