/**
 * Prometheus text exposition (format 0.0.4) of what the overview shows: DEKs per database and
 * KEK ref, KEK primary age, run progress, rates and errors. Labels are names, refs and run ids.
 */
import type { OverviewView } from './overview.ts';

/** One metric family being written. */
interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: { labels: Record<string, string>; value: number }[];
}

/** Renders the overview as Prometheus text. */
export function renderMetrics(
  view: OverviewView,
  up: { redis: boolean; control: boolean },
): string {
  const families: Family[] = [];
  const family = (name: string, type: Family['type'], help: string): Family['samples'] => {
    const f: Family = { name, help, type, samples: [] };
    families.push(f);
    return f.samples;
  };

  const upSamples = family('rekey_dashboard_backend_up', 'gauge', 'Whether a backend answers.');
  upSamples.push({ labels: { backend: 'redis' }, value: up.redis ? 1 : 0 });
  upSamples.push({ labels: { backend: 'control' }, value: up.control ? 1 : 0 });

  const deks = family('rekey_deks', 'gauge', 'DEKs per database, KEK name and KEK ref.');
  const storeUp = family('rekey_dek_store_up', 'gauge', 'Whether a DEK store answers.');
  for (const inv of view.inventory) {
    storeUp.push({ labels: { database: inv.database }, value: inv.available ? 1 : 0 });
    for (const c of inv.counts) {
      deks.push({
        labels: { database: inv.database, kek_name: c.kekName, kek_ref: c.kekRef },
        value: c.count,
      });
    }
  }

  const versions = family('rekey_kek_versions', 'gauge', 'KEK versions per state.');
  const age = family('rekey_kek_primary_age_seconds', 'gauge', 'Age of the primary KEK version.');
  const due = family('rekey_kek_rotation_due', 'gauge', '1 when the primary is older than policy.');
  for (const k of view.keks) {
    for (const state of ['primary', 'active', 'disabled'] as const) {
      const n = k.versions.filter((v) => v.state === state).length;
      versions.push({ labels: { kek_name: k.name, state }, value: n });
    }
    if (k.primaryAgeSeconds !== null) {
      age.push({ labels: { kek_name: k.name }, value: k.primaryAgeSeconds });
    }
    due.push({ labels: { kek_name: k.name }, value: k.status === 'due' ? 1 : 0 });
  }

  const active = family('rekey_rotation_active', 'gauge', 'Active rotation runs per KEK name.');
  for (const k of view.keks) {
    const n = view.activeRuns.filter((r) => r.kekName === k.name).length;
    active.push({ labels: { kek_name: k.name }, value: n });
  }
  const progress = family('rekey_rotation_deks', 'gauge', 'DEKs of an active run by outcome.');
  const percent = family('rekey_rotation_progress_percent', 'gauge', 'Progress of an active run.');
  const rate = family('rekey_rotation_rate_deks_per_second', 'gauge', 'Current rewrap rate.');
  const errors = family('rekey_rotation_failed_deks', 'gauge', 'DEKs that failed to rewrap.');
  for (const r of view.activeRuns) {
    const labels = { run_id: r.id, kek_name: r.kekName };
    for (const outcome of ['planned', 'done', 'skipped', 'failed', 'remaining'] as const) {
      progress.push({ labels: { ...labels, outcome }, value: r.totals[outcome] });
    }
    percent.push({ labels, value: r.totals.percent });
    rate.push({ labels, value: r.ratePerSecond });
    errors.push({ labels, value: r.totals.failed });
  }
  const finished = family('rekey_rotation_runs_recent', 'gauge', 'Recent finished runs by phase.');
  for (const phase of ['completed', 'failed'] as const) {
    const n = view.recentRuns.filter((r) => r.phase === phase).length;
    finished.push({ labels: { phase }, value: n });
  }

  return `${families.map(renderFamily).join('')}`;
}

function renderFamily(f: Family): string {
  const lines = [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`];
  for (const s of f.samples) {
    const labels = Object.entries(s.labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    lines.push(`${f.name}${labels === '' ? '' : `{${labels}}`} ${formatValue(s.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  return String(n);
}
