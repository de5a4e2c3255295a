/**
 * Publish-readiness of the library packages (`pnpm check:packages`):
 *
 * 1. package.json and deno.json agree: name, version, licence, and the same subpath exports,
 *    each deno.json export naming the file that the package.json `@rekey/source` condition names.
 * 2. package.json exports are ordered `types`, `@rekey/source`, `default`, point into `dist/`
 *    with matching `.d.ts` / `.js` names, and the npm metadata a registry page needs is there
 *    (files, LICENSE, repository directory, engines, sideEffects, public access).
 * 3. Each package builds (`pnpm --filter <name> build`), then publint --strict lints the packed
 *    tarball.
 * 4. `deno publish --dry-run` accepts the workspace for JSR (slow types, licence, every exported
 *    module published).
 *
 *   node scripts/check-packages.mjs [--no-build]   (--no-build: reuse dist/ as it is)
 *
 * Exits non-zero and lists every problem if any check fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['crypto-core', 'kek-providers', 'storage-adapters'];
const build = !process.argv.includes('--no-build');
const problems = [];

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const say = (line) => process.stdout.write(`${line}\n`);

function run(command, args, cwd) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** Checks one package's manifests; pushes a problem per mismatch. */
function checkManifests(dir) {
  const pkg = readJson(join(root, dir, 'package.json'));
  const deno = readJson(join(root, dir, 'deno.json'));
  const problem = (message) => problems.push(`${dir}: ${message}`);

  for (const field of ['name', 'version', 'license']) {
    if (pkg[field] !== deno[field]) {
      problem(`${field} differs: package.json ${pkg[field]}, deno.json ${deno[field]}`);
    }
  }
  if (pkg.private) problem('package.json is private');
  if (pkg.type !== 'module') problem('package.json "type" must be "module"');
  if (pkg.sideEffects !== false) problem('package.json "sideEffects" must be false');
  if (!pkg.engines?.node) problem('package.json "engines.node" is missing');
  if (pkg.publishConfig?.access !== 'public') problem('"publishConfig.access" must be "public"');
  if (pkg.repository?.directory !== dir) problem(`"repository.directory" must be "${dir}"`);
  if (!existsSync(join(root, dir, 'LICENSE'))) problem('LICENSE file is missing');
  for (const entry of ['dist', 'README.md', 'LICENSE']) {
    if (!pkg.files?.includes(entry)) problem(`"files" must include ${entry}`);
  }

  const npmSubpaths = Object.keys(pkg.exports ?? {}).filter((s) => s !== './package.json');
  const denoSubpaths = Object.keys(deno.exports ?? {});
  for (const subpath of npmSubpaths) {
    if (!denoSubpaths.includes(subpath)) problem(`deno.json does not export ${subpath}`);
  }
  for (const subpath of denoSubpaths) {
    if (!npmSubpaths.includes(subpath)) problem(`package.json does not export ${subpath}`);
  }

  for (const subpath of npmSubpaths) {
    const target = pkg.exports[subpath];
    const conditions = typeof target === 'object' ? Object.keys(target) : [];
    if (conditions.join() !== 'types,@rekey/source,default') {
      problem(`${subpath}: conditions must be types, @rekey/source, default (${conditions})`);
      continue;
    }
    const source = target['@rekey/source'];
    const stem = source.replace(/^\.\/src\//, './dist/').replace(/\.ts$/, '');
    if (target.types !== `${stem}.d.ts` || target.default !== `${stem}.js`) {
      problem(`${subpath}: types/default do not match the source ${source}`);
    }
    if (!existsSync(join(root, dir, source))) problem(`${subpath}: ${source} does not exist`);
    if (denoSubpaths.includes(subpath) && deno.exports[subpath] !== source) {
      problem(`${subpath}: deno.json names ${deno.exports[subpath]}, package.json ${source}`);
    }
  }
}

for (const name of packages) {
  const dir = `packages/${name}`;
  say(`check-packages: @rekey/${name}`);
  checkManifests(dir);

  if (build) {
    const built = run('pnpm', ['--filter', `@rekey/${name}`, 'build'], root);
    if (!built.ok) {
      problems.push(`${dir}: build failed\n${built.output}`);
      continue;
    }
  }
  const publint = join(root, 'node_modules', '.bin', 'publint');
  const linted = run(publint, ['--strict'], join(root, dir));
  if (!linted.ok || !/All good/.test(linted.output)) {
    problems.push(`${dir}: publint reported\n${linted.output}`);
  }
}

say('check-packages: deno publish --dry-run');
const deno = join(root, 'node_modules', '.bin', 'deno');
const jsr = run(deno, ['publish', '--dry-run', '--allow-dirty'], root);
if (!jsr.ok) problems.push(`deno publish --dry-run failed\n${jsr.output}`);

// The build was only for checking. Left in place, dist/ would shadow the sources: TypeScript
// takes the `types` condition first, so the workspace would typecheck against stale output.
if (build) {
  for (const name of packages)
    rmSync(join(root, 'packages', name, 'dist'), { recursive: true, force: true });
}

if (problems.length > 0) {
  for (const line of problems) process.stderr.write(`check-packages: ${line}\n`);
  process.exit(1);
}
say(`check-packages: ${packages.length} packages ready for npm and JSR`);
