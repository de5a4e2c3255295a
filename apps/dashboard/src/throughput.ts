/**
 * Throughput of runs over time, sampled by the live hub each time it reads a run's progress:
 * the rate (DEKs per second over a recent window), the ETA, and the series the run page charts.
 *
 * NOTE: samples live in this process only: a restarted dashboard starts the chart afresh. The
 * control store keeps counts, not their history.
 */

/** One point of the throughput chart. */
export interface ThroughputPoint {
  /** Epoch milliseconds of the sample. */
  readonly t: number;
  /** DEKs processed per second since the previous sample. */
  readonly perSecond: number;
}

interface Sample {
  readonly t: number;
  readonly processed: number;
}

/** Samples kept per run: at one a second, ten minutes. */
const MAX_SAMPLES = 600;
/** Runs whose history is kept. */
const MAX_RUNS = 50;
/** The window the current rate is measured over. */
const RATE_WINDOW_MS = 20_000;
/** The trailing window each point of the chart is measured over. */
const SERIES_WINDOW_MS = 5_000;
/** Samples closer together than this are merged (the latest count wins). */
const MIN_SPACING_MS = 500;

/** Per-run samples of processed counts (done + skipped + failed). */
export class ThroughputTracker {
  readonly #samples = new Map<string, Sample[]>();

  /** Records that `processed` DEKs of a run were handled at time `t`. */
  record(runId: string, t: number, processed: number): void {
    let samples = this.#samples.get(runId);
    if (samples === undefined) {
      samples = [];
      this.#samples.set(runId, samples);
      // Keep the history of the most recent runs only.
      if (this.#samples.size > MAX_RUNS)
        this.#samples.delete(this.#samples.keys().next().value as string);
    }
    const last = samples.at(-1);
    if (last !== undefined && processed < last.processed) samples.length = 0;
    if (last !== undefined && t - last.t < MIN_SPACING_MS && samples.length > 1) samples.pop();
    samples.push({ t, processed });
    if (samples.length > MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES);
  }

  /** DEKs per second over the last window, or 0 without two samples in it. */
  rate(runId: string): number {
    const samples = this.#samples.get(runId) ?? [];
    const last = samples.at(-1);
    if (last === undefined) return 0;
    const first = samples.find((s) => last.t - s.t <= RATE_WINDOW_MS) ?? last;
    const seconds = (last.t - first.t) / 1000;
    return seconds <= 0 ? 0 : (last.processed - first.processed) / seconds;
  }

  /**
   * The rate at each sample over the few seconds before it, oldest first. Work lands in pages
   * of a thousand DEKs, so a rate between two neighbouring samples would jump between zero
   * and a burst.
   */
  series(runId: string): ThroughputPoint[] {
    const samples = this.#samples.get(runId) ?? [];
    const points: ThroughputPoint[] = [];
    let from = 0;
    for (let i = 1; i < samples.length; i++) {
      const b = samples[i] as Sample;
      while (from < i - 1 && b.t - (samples[from] as Sample).t > SERIES_WINDOW_MS) from++;
      const a = samples[from] as Sample;
      const seconds = (b.t - a.t) / 1000;
      if (seconds > 0) {
        points.push({ t: b.t, perSecond: Math.round((b.processed - a.processed) / seconds) });
      }
    }
    return points;
  }
}

/** Seconds until `remaining` DEKs are done at `perSecond`, or `null` when unknown. */
export function etaSeconds(remaining: number, perSecond: number): number | null {
  if (remaining <= 0) return 0;
  if (perSecond <= 0) return null;
  return Math.ceil(remaining / perSecond);
}
