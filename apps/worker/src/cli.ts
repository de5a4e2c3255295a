#!/usr/bin/env node
/** The `rekey` executable: runs the CLI with the process's arguments and exits with its status. */
import { runCli } from './cli/run-cli.ts';

const status = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
process.exitCode = status;
// Commands close what they open; a stray handle (a driver's idle timer) must not keep it alive.
setTimeout(() => process.exit(status), 1_000).unref();
