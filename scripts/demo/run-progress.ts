/** Reading run summaries from `rekey rotate --json` and `rekey status --json`. */
import { runRekey } from './child-processes.ts';

/** The fields of the CLI's RunSummary the demo prints. */
export interface RunSummary {
  readonly id: string;
  readonly targetRef: string;
  readonly phase: string;
  readonly totals: {
    readonly planned: number;
    readonly done: number;
    readonly skipped: number;
    readonly failed: number;
    readonly remaining: number;
  };
}

/** The last progress line of `rotate --wait --json` output. */
export function lastSummary(stdout: string): RunSummary | undefined {
  let last: RunSummary | undefined;
  for (const text of stdout.split('\n')) {
    if (!text.startsWith('{')) continue;
    const event = JSON.parse(text) as { event?: string } & RunSummary;
    if (event.event === 'progress') last = event;
  }
  return last;
}

/** "40,024 of 40,024 DEKs rewrapped, 0 skipped, 0 failed". */
export function progressLine(summary: RunSummary): string {
  const n = (value: number): string => value.toLocaleString('en');
  const { planned, done, skipped, failed } = summary.totals;
  return `${n(done)} of ${n(planned)} DEKs rewrapped, ${n(skipped)} skipped, ${n(failed)} failed`;
}

/**
 * Polls `rekey status <run> --json` every few seconds and reports each change, until the run
 * completes or fails or `stop()` is called.
 */
export function followRun(
  runId: string,
  config: string,
  env: NodeJS.ProcessEnv,
  report: (summary: RunSummary) => void,
): { stop(): void } {
  let stopped = false;
  let previous = '';
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      if (stopped) return;
      const result = await runRekey(['status', runId, '--json'], config, env);
      if (result.code !== 0 || stopped) continue;
      const summary = JSON.parse(result.stdout) as RunSummary;
      const key = `${summary.phase}:${summary.totals.done}`;
      if (key !== previous) report(summary);
      previous = key;
      if (summary.phase === 'completed' || summary.phase === 'failed') return;
    }
  };
  void loop().catch(() => {});
  return {
    stop: () => {
      stopped = true;
    },
  };
}
