/**
 * Runs every benchmark in `bench/src/*.bench.ts`, one process each and one after another, so
 * they never compete for the two cores. `pnpm bench -- NAME` runs the ones whose file name
 * contains NAME. Files starting with `_` are shared modules, not benchmarks.
 *
 * Each benchmark prints its own table and reports its headline ratios to a temporary file
 * (`REKEY_BENCH_SUMMARY`, see `src/_summary.ts`); the run ends with one summary table of them.
 * The exit code is non-zero only when a benchmark process failed: a missed target shows as
 * "missed" in the table, it does not fail the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { formatSummary, readReports, SUMMARY_ENV } from './src/_summary.ts';

const dir = fileURLToPath(new URL('./src/', import.meta.url));
const filter = process.argv.slice(2).filter((a) => a !== '--');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && !f.startsWith('_'))
  .filter((f) => filter.length === 0 || filter.some((n) => f.includes(n)))
  .sort();

const summaryDir = mkdtempSync(join(tmpdir(), 'rekey-bench-summary-'));
const summaryFile = join(summaryDir, 'ratios.jsonl');
writeFileSync(summaryFile, '');

const failed: string[] = [];
try {
  for (const file of files) {
    console.log(`\n# ${file}`);
    const run = spawnSync(
      process.execPath,
      ['--conditions=@rekey/source', '--import', 'tsx', `${dir}${file}`],
      { stdio: 'inherit', env: { ...process.env, [SUMMARY_ENV]: summaryFile } },
    );
    if (run.status !== 0) failed.push(file);
  }

  console.log('\n# summary: rekey against the baselines measured in the same run\n');
  console.log(formatSummary(readReports(summaryFile)));
  if (failed.length > 0) console.log(`failed: ${failed.join(', ')} (their rows may be missing)`);
} finally {
  rmSync(summaryDir, { recursive: true, force: true });
}
process.exit(failed.length === 0 ? 0 : 1);
