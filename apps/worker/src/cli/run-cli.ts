/**
 * The `rekey` command line: init, worker, rotate, status, inventory, verify, retire, seed.
 * Exit status 0 on success, 1 when the operation failed or was refused, 2 on usage or config
 * errors (every config problem is listed by path).
 */
import { ConfigProblemsError } from '../config/load-config.ts';
import { CliError, type CliIo, EXIT, line } from './cli-context.ts';
import { INIT_HELP, initCommand } from './commands/init.ts';
import { INVENTORY_HELP, inventoryCommand } from './commands/inventory.ts';
import { RETIRE_HELP, retireCommand } from './commands/retire.ts';
import { ROTATE_HELP, rotateCommand } from './commands/rotate.ts';
import { runControlCommand, runControlHelp } from './commands/run-control.ts';
import { SEED_HELP, seedCommand } from './commands/seed.ts';
import { STATUS_HELP, statusCommand } from './commands/status.ts';
import { VERIFY_HELP, verifyCommand } from './commands/verify.ts';
import { WORKER_HELP, workerCommand } from './commands/worker.ts';

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  init: { run: initCommand, help: INIT_HELP },
  worker: { run: workerCommand, help: WORKER_HELP },
  rotate: { run: rotateCommand, help: ROTATE_HELP },
  status: { run: statusCommand, help: STATUS_HELP },
  inventory: { run: inventoryCommand, help: INVENTORY_HELP },
  verify: { run: verifyCommand, help: VERIFY_HELP },
  retire: { run: retireCommand, help: RETIRE_HELP },
  seed: { run: seedCommand, help: SEED_HELP },
  pause: { run: runControlCommand('pause'), help: runControlHelp('pause') },
  resume: { run: runControlCommand('resume'), help: runControlHelp('resume') },
  cancel: { run: runControlCommand('cancel'), help: runControlHelp('cancel') },
  retry: { run: runControlCommand('retry'), help: runControlHelp('retry') },
};

const HELP = `Usage: rekey <command> [options]

Commands:
  init                     write a starter config
  worker                   run the rotation workers and the scheduler
  rotate <kek>             start (or join) a rotation run; --wait follows it
  status [run]             runs with per-database progress, rate, ETA, errors
  inventory                DEK counts per database, KEK name and ref
  verify <kek>             DEKs not on the primary (must be 0) and a sample unwrap
  retire <kek-ref>         disable an old version (refused while referenced)
  seed <kek>               create DEKs for demos and benchmarks
  pause|resume <run>       pause a run / unpause it
  cancel <run>             cancel an active run
  retry <run>              reopen a failed run with the same target

Every command takes --help and --config FILE (default: $REKEY_CONFIG or ./rekey.config.json).`;

/** Runs the CLI with `argv` (without the node and script paths); resolves to the exit status. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    line(io.stdout, HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    line(io.stderr, `rekey: unknown command ${name}\n\n${HELP}`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof ConfigProblemsError) {
      line(io.stderr, `rekey: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof CliError) {
      line(io.stderr, `rekey: ${error.message}`);
      return error.exitCode;
    }
    const e = error as { code?: unknown; name?: unknown; message?: unknown };
    // Rekey errors carry a code and a key-free message; anything else is reduced to its name.
    const text =
      typeof e?.code === 'string' && typeof e.message === 'string'
        ? `${e.code}: ${e.message}`
        : String(e?.name ?? 'error');
    if ((error as { code?: unknown })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      line(io.stderr, `rekey: ${String(e.message)}\n\n${command.help}`);
      return EXIT.usage;
    }
    line(io.stderr, `rekey ${name}: ${text}`);
    return EXIT.failed;
  }
}
