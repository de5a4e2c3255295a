/** `rekey pause|resume|cancel|retry <run>`: operator actions on a run, audited. */
import { parseArgs } from 'node:util';

import type { RunRecord } from '../../control/control-store.ts';
import { cancelRun, pauseRun, retryRun, unpauseRun } from '../../engine/run-controls.ts';
import type { TriggerContext } from '../../engine/trigger-run.ts';
import { CliError, type CliIo, EXIT, json, line, loadCliConfig } from '../cli-context.ts';
import { openControlParts } from '../open-parts.ts';

type Action = (ctx: TriggerContext, runId: string, actor: string) => Promise<RunRecord>;

const ACTIONS: Record<string, { run: Action; does: string }> = {
  pause: {
    run: pauseRun,
    does: 'Pauses an active run: batches hand their range back at the next page and wait.',
  },
  resume: { run: unpauseRun, does: 'Unpauses a run and re-enqueues its work.' },
  cancel: {
    run: cancelRun,
    does: 'Cancels an active run (phase failed, error "cancelled"); DEKs already moved stay moved.',
  },
  retry: {
    run: async (ctx, runId, actor) => (await retryRun(ctx, runId, actor)).run,
    does: 'Reopens a failed run with the same target for another sweep.',
  },
};

/** The help text of one run action. */
export function runControlHelp(action: string): string {
  return `Usage: rekey ${action} <run> [--json]

${ACTIONS[action]?.does ?? ''} Audited in the control database.

Options:
  --json          JSON output: {"runId","phase","paused"}
  --config FILE   config file (default: $REKEY_CONFIG or ./rekey.config.json)
  --help          this text`;
}

/** The command running one run action. */
export function runControlCommand(action: string): (argv: string[], io: CliIo) => Promise<number> {
  return async (argv, io) => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, config: { type: 'string' }, help: { type: 'boolean' } },
    });
    if (values.help) {
      line(io.stdout, runControlHelp(action));
      return EXIT.ok;
    }
    const runId = positionals[0];
    const act = ACTIONS[action];
    if (runId === undefined || act === undefined)
      throw new CliError(`${action}: missing <run>`, EXIT.usage);
    const config = loadCliConfig(values.config, io);
    const parts = await openControlParts(config);
    try {
      const run = await act.run(parts, runId, `cli:${io.env.USER ?? 'unknown'}`).catch((error) => {
        if ((error as { code?: string }).code === 'RUN_CONTROL_REFUSED') {
          throw new CliError(`${action}: ${(error as Error).message}`);
        }
        throw error;
      });
      if (values.json === true)
        json(io.stdout, { runId: run.id, phase: run.phase, paused: run.paused });
      else line(io.stdout, `run ${run.id}: ${run.phase}${run.paused ? ' (paused)' : ''}`);
      return EXIT.ok;
    } finally {
      await parts.close();
    }
  };
}
