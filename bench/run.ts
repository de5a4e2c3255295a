/**
 * Runs every benchmark in `bench/src/*.bench.ts`, one process each and one after another, so
 * they never compete for the two cores. `pnpm bench -- NAME` runs the ones whose file name
 * contains NAME.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./src/', import.meta.url));
const filter = process.argv.slice(2).filter((a) => a !== '--');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filter.length === 0 || filter.some((n) => f.includes(n)))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n# ${file}`);
  const run = spawnSync(
    process.execPath,
    ['--conditions=@rekey/source', '--import', 'tsx', `${dir}${file}`],
    { stdio: 'inherit' },
  );
  if (run.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
