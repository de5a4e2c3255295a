/**
 * `pnpm demo`: the quick start's main job on embedded defaults. Builds a demo under
 * .rekey-demo/, seeds DEKs and encrypted sample records, starts the worker and the dashboard
 * as child processes and a first rotation, and serves until Ctrl-C; `--no-serve` instead waits
 * for the rotation, verifies and exits. Run with `tsx --conditions=@rekey/source`.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import {
  choosePort,
  runRekey,
  startDashboard,
  startWorker,
  stopChild,
  waitForHttp,
} from './child-processes.ts';
import {
  DEMO_DATABASES,
  DEMO_KEK,
  type DemoPaths,
  resetDemoDir,
  runningDemo,
} from './demo-config.ts';
import { DEMO_HELP, type DemoOptions, DemoUsageError, demoOptions } from './demo-options.ts';
import { prepareRedis, redisHowTo, redisReachable } from './redis-preflight.ts';
import { followRun, lastSummary, progressLine, type RunSummary } from './run-progress.ts';
import { checkSamples, createSamples } from './sample-records.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLES_PER_DATABASE = 12;

const say = (text: string): void => {
  process.stdout.write(`${text}\n`);
};
const fail = (text: string): number => {
  process.stderr.write(`${text}\n`);
  return 1;
};

async function main(argv: readonly string[]): Promise<number> {
  let options: DemoOptions | 'help';
  try {
    options = demoOptions(argv, process.env, ROOT);
  } catch (error) {
    if (error instanceof DemoUsageError)
      return fail(`rekey demo: ${error.message}\n\n${DEMO_HELP}`);
    throw error;
  }
  if (options === 'help') {
    say(DEMO_HELP);
    return 0;
  }

  // Nothing is written before Redis answers: a missing Redis leaves the demo folder as it was.
  if (!(await redisReachable(options.redisUrl))) return fail(redisHowTo(options.redisUrl));
  const other = runningDemo(options.dir);
  if (other !== undefined) {
    return fail(`rekey demo: another demo (pid ${other}) is using ${options.dir}; stop it first`);
  }
  try {
    await prepareRedis(options.redisUrl, options.prefix);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail(`rekey demo: ${message}\n  fix: redis-cli config set maxmemory-policy noeviction`);
  }

  const paths = resetDemoDir(options);
  const env: NodeJS.ProcessEnv = { ...process.env, REKEY_DEMO_REDIS_URL: options.redisUrl };
  try {
    return await runDemo(options, paths, env);
  } finally {
    rmSync(paths.pid, { force: true });
  }
}

async function runDemo(
  options: DemoOptions,
  paths: DemoPaths,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  say(`rekey demo: building ${options.dir} (reset on every run)`);
  let fromRef = '';
  for (const database of DEMO_DATABASES) {
    const args = [
      'seed',
      DEMO_KEK,
      '--database',
      database,
      '--count',
      String(options.deksPerDatabase),
      '--json',
    ];
    const seeded = await runRekey(args, paths.config, env);
    if (seeded.code !== 0) return fail(`rekey demo: seeding ${database} failed:\n${seeded.stderr}`);
    fromRef = (JSON.parse(seeded.stdout) as { kekRef: string }).kekRef;
    say(
      `  seeded ${options.deksPerDatabase.toLocaleString('en')} DEKs in ${database} under ${fromRef}`,
    );
  }
  const samples = await createSamples(paths.config, paths.samples, SAMPLES_PER_DATABASE);
  say(`  encrypted ${samples.length} sample records with createEnvelope (${paths.samples})`);

  // NOTE: the Ctrl-C handler is installed once serving starts. Before that, a SIGINT from a
  // terminal reaches the worker too (same process group) and stops it; a signal sent to this
  // process alone during setup would leave the worker running until it is stopped by hand.
  const children: ChildProcess[] = [startWorker(paths.config, env, paths.workerLog)];
  const stopAll = async (): Promise<void> => {
    await Promise.all(children.map((child) => stopChild(child)));
  };
  try {
    if (!options.serve) return await runToTheEnd(paths, env, fromRef);
    return await serve(options, paths, env, children);
  } finally {
    await stopAll();
  }
}

/** `--no-serve`: rotate, wait, verify, decrypt the samples, summarise. */
async function runToTheEnd(
  paths: DemoPaths,
  env: NodeJS.ProcessEnv,
  fromRef: string,
): Promise<number> {
  const started = Date.now();
  const rotated = await runRekey(['rotate', DEMO_KEK, '--wait', '--json'], paths.config, env);
  const summary = lastSummary(rotated.stdout);
  if (summary === undefined || summary.phase !== 'completed') {
    return fail(
      `rekey demo: the rotation did not complete (phase ${summary?.phase ?? 'unknown'}); see ${paths.workerLog}\n${rotated.stderr}`,
    );
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const verified = await runRekey(['verify', DEMO_KEK, '--json'], paths.config, env);
  const verify = JSON.parse(verified.stdout || '{}') as {
    ok?: boolean;
    remaining?: number;
    primary?: string;
  };
  const decrypted = await checkSamples(paths.config, paths.samples);

  say(`rekey demo: rotation ${summary.id} completed in ${seconds} s`);
  say(`  ${fromRef} -> ${summary.targetRef}: ${progressLine(summary)}`);
  say(
    `  verify: ${verify.remaining ?? '?'} DEKs left on older versions, primary ${verify.primary ?? '?'}, ${verify.ok === true ? 'ok' : 'NOT OK'}`,
  );
  say(`  sample records: ${decrypted.ok} of ${decrypted.total} decrypt after the rotation`);
  say(`  config: ${paths.config} (try: pnpm rekey status --config ${paths.config})`);
  const ok = verified.code === 0 && verify.ok === true && decrypted.ok === decrypted.total;
  say(ok ? 'rekey demo: ok' : 'rekey demo: FAILED');
  return ok ? 0 : 1;
}

/** Serving: the dashboard, a first rotation, progress lines, until Ctrl-C. */
async function serve(
  options: DemoOptions,
  paths: DemoPaths,
  env: NodeJS.ProcessEnv,
  children: ChildProcess[],
): Promise<number> {
  const port = await choosePort(options.port);
  const dashboard = startDashboard(
    {
      ...env,
      REKEY_CONFIG: paths.config,
      REKEY_DASHBOARD_HOST: '127.0.0.1',
      REKEY_DASHBOARD_PORT: String(port),
      REKEY_DASHBOARD_VIEWER_TOKEN_FILE: paths.viewerToken,
      REKEY_DASHBOARD_OPERATOR_TOKEN_FILE: paths.operatorToken,
    },
    paths.dashboardLog,
  );
  children.push(dashboard);
  const url = `http://127.0.0.1:${port}`;
  if (!(await waitForHttp(`${url}/healthz`, 60_000))) {
    return fail(`rekey demo: the dashboard did not start; see ${paths.dashboardLog}`);
  }

  const rotated = await runRekey(['rotate', DEMO_KEK, '--json'], paths.config, env);
  if (rotated.code !== 0) return fail(`rekey demo: the rotation did not start:\n${rotated.stderr}`);
  const runId =
    (JSON.parse(rotated.stdout.split('\n')[0] ?? '{}') as { runId?: string }).runId ?? '';

  const token = (file: string): string => readFileSync(file, 'utf8').trim();
  say('');
  say(`rekey demo: dashboard  ${url}`);
  say(`  viewer token:   ${token(paths.viewerToken)}   (${paths.viewerToken})`);
  say(`  operator token: ${token(paths.operatorToken)}   (${paths.operatorToken})`);
  say(`  rotation ${runId} started; watch it live in the dashboard`);
  say(`  logs: ${paths.workerLog}, ${paths.dashboardLog}`);
  say('  stop: Ctrl-C (stops the worker and the dashboard cleanly)');
  say('');

  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const exited = new Promise<string>((resolve) => {
    for (const child of children)
      child.once('exit', () => resolve(child === dashboard ? 'dashboard' : 'worker'));
  });
  const follow = followRun(runId, paths.config, env, (summary: RunSummary) => {
    say(`  ${summary.phase}: ${progressLine(summary)}`);
  });
  const outcome = await Promise.race([stopped.then(() => 'stop'), exited]);
  follow.stop();
  if (outcome !== 'stop')
    return fail(`rekey demo: the ${outcome} exited; see the logs in ${options.dir}`);
  say('rekey demo: stopping the worker and the dashboard');
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
