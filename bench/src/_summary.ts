/**
 * The cross-benchmark summary: each benchmark reports its headline ratios here, and `run.ts`
 * prints them as one table once every benchmark has finished. Not a benchmark itself (the
 * leading `_` keeps `run.ts` from running it).
 *
 * A report is one JSON line appended to the file named by `REKEY_BENCH_SUMMARY`, which `run.ts`
 * sets for each benchmark process; without it (a benchmark run on its own) reporting does
 * nothing. Appends are synchronous, so a benchmark that ends with `process.exit` loses none.
 */
import { appendFileSync, readFileSync } from 'node:fs';

/** A target from the issue: a bound on the ratio (default) or on rekey's own figure. */
export interface Target {
  /** Met when the figure is at least this. */
  readonly atLeast?: number;
  /** Met when the figure is strictly below this. */
  readonly below?: number;
  /** What the bound applies to: the ratio (default) or `value`, in `unit`. */
  readonly of?: 'ratio' | 'value';
}

/** One headline ratio of one benchmark: rekey's figure, its baseline and how they compare. */
export interface RatioReport {
  /** The benchmark, as its file is named without `.bench.ts`: `envelope`. */
  readonly bench: string;
  /** What was measured: `encrypt 64 B`. */
  readonly measure: string;
  /** rekey's figure, in `unit`. */
  readonly value: number;
  /** The figure rekey is compared with, in `unit`. */
  readonly baseline: number;
  /** What the baseline is: `raw node:crypto`. */
  readonly vs: string;
  /** Unit of `value` and `baseline`: `ops/s`. */
  readonly unit: string;
  /**
   * The ratio as the benchmark computes it (often a median of per-round ratios, so not always
   * `value / baseline` exactly).
   */
  readonly ratio: number;
  readonly target?: Target;
}

/** The environment variable naming the summary file. */
export const SUMMARY_ENV = 'REKEY_BENCH_SUMMARY';

/**
 * Records one headline ratio for the summary table; does nothing unless `REKEY_BENCH_SUMMARY`
 * names a file.
 *
 * @example
 * reportRatio({ bench: 'envelope', measure: 'encrypt 64 B', value: 410_000, baseline: 700_000,
 *   vs: 'raw node:crypto', unit: 'ops/s', ratio: 0.58, target: { atLeast: 0.5 } });
 */
export function reportRatio(report: RatioReport): void {
  const file = process.env[SUMMARY_ENV];
  if (file === undefined || file === '') return;
  appendFileSync(file, `${JSON.stringify(report)}\n`);
}

/** Whether `report` meets its target; `undefined` when it has none. */
export function targetMet(report: RatioReport): boolean | undefined {
  const { target } = report;
  if (target === undefined) return undefined;

  const figure = target.of === 'value' ? report.value : report.ratio;
  if (!Number.isFinite(figure)) return false;
  if (target.atLeast !== undefined && !(figure >= target.atLeast)) return false;
  if (target.below !== undefined && !(figure < target.below)) return false;
  return true;
}

/** Reads the reports in `file`, skipping lines that are not a complete report. */
export function readReports(file: string): RatioReport[] {
  const reports: RatioReport[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      reports.push(JSON.parse(line) as RatioReport);
    } catch {
      // A process killed mid-write leaves a partial last line: the rest still stands.
    }
  }
  return reports;
}

const figure = (n: number): string =>
  !Number.isFinite(n)
    ? String(n)
    : Math.abs(n) >= 100
      ? Math.round(n).toLocaleString('en-US')
      : n.toFixed(1);
/** A ratio: one decimal from 10x, two from 0.1x, and two significant digits below that. */
function times(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n >= 10) return `${n.toFixed(1)}x`;
  return n >= 0.1 || n === 0 ? `${n.toFixed(2)}x` : `${n.toPrecision(2)}x`;
}

function describeTarget(report: RatioReport): string {
  const { target } = report;
  if (target === undefined) return '';
  const show = (n: number) => (target.of === 'value' ? `${figure(n)} ${report.unit}` : times(n));
  const parts: string[] = [];
  if (target.atLeast !== undefined) parts.push(`>= ${show(target.atLeast)}`);
  if (target.below !== undefined) parts.push(`< ${show(target.below)}`);
  return parts.join(', ');
}

/** The summary as a Markdown table, one row per report, in the order reported. */
export function formatSummary(reports: readonly RatioReport[]): string {
  const lines = [
    '| bench | measurement | rekey | baseline | ratio | target | met |',
    '|---|---|---:|---:|---:|---|---|',
  ];
  for (const r of reports) {
    const met = targetMet(r);
    lines.push(
      `| ${r.bench} | ${r.measure} | ${figure(r.value)} ${r.unit} | ${r.vs}: ` +
        `${figure(r.baseline)} ${r.unit} | ${times(r.ratio)} | ${describeTarget(r)} | ` +
        `${met === undefined ? '' : met ? 'met' : 'missed'} |`,
    );
  }
  const withTarget = reports.filter((r) => r.target !== undefined);
  const met = withTarget.filter((r) => targetMet(r) === true).length;
  lines.push(
    '',
    withTarget.length === 0
      ? 'no targets in this run'
      : `${met} of ${withTarget.length} targets met`,
  );
  return lines.join('\n');
}
