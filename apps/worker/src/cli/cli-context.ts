/** What every CLI command shares: parsed options, output streams and config loading. */
import type { Writable } from 'node:stream';

import { findConfigPath, loadConfigFile } from '../config/load-config.ts';
import type { WorkerConfig } from '../config/worker-config.ts';

/** Exit statuses of the CLI. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A failure the CLI reports as one line on stderr with an exit status. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failed) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Streams and environment of one CLI invocation. */
export interface CliIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

/** Loads the config named by `--config` or `REKEY_CONFIG`. */
export function loadCliConfig(explicit: string | undefined, io: CliIo): WorkerConfig {
  return loadConfigFile(findConfigPath(explicit, io.env), io.env);
}

/** Writes one line. */
export function line(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}

/** Writes stable JSON (one document, or one line per event with `--json` streams). */
export function json(stream: Writable, value: unknown): void {
  stream.write(`${JSON.stringify(value)}\n`);
}

/** Formats rows as a left-aligned text table. */
export function table(rows: readonly (readonly (string | number)[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, String(cell).length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => String(cell).padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
