import { describe, expect, it } from 'vitest';

import { renderMetrics } from './metrics.ts';
import type { OverviewView } from './overview.ts';
import type { RunSummary } from './run-view.ts';

const run: RunSummary = {
  id: 'r1',
  kekName: 'pii',
  targetRef: 'local:pii/v2',
  phase: 'rewrapping',
  active: true,
  paused: false,
  trigger: 'dashboard',
  sweep: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  finishedAt: null,
  error: null,
  totals: { planned: 100, done: 40, skipped: 1, failed: 2, remaining: 57, percent: 43 },
  ratePerSecond: 12,
  etaSeconds: 5,
};

const view: OverviewView = {
  generatedAt: '2026-01-01T00:00:00.000Z',
  keks: [
    {
      name: 'pii',
      provider: 'local',
      versions: [
        { ref: 'local:pii/v1', state: 'active', createdAt: '2025-01-01T00:00:00.000Z' },
        { ref: 'local:pii/v2', state: 'primary', createdAt: '2026-01-01T00:00:00.000Z' },
      ],
      primaryRef: 'local:pii/v2',
      primaryAgeSeconds: 3600,
      policy: 'every 30d',
      dueAt: null,
      nextRotationAt: null,
      status: 'rotating',
    },
  ],
  databases: ['orders'],
  inventory: [
    {
      database: 'orders',
      available: true,
      counts: [
        { kekName: 'pii', kekRef: 'local:pii/v1', count: 57 },
        { kekName: 'pii', kekRef: 'weird"ref\\x', count: 3 },
      ],
    },
  ],
  activeRuns: [run],
  recentRuns: [],
};

describe('the Prometheus metrics', () => {
  const text = renderMetrics(view, { redis: true, control: false });

  it('count DEKs per database, KEK name and ref, with label values escaped', () => {
    expect(text).toContain(
      'rekey_deks{database="orders",kek_name="pii",kek_ref="local:pii/v1"} 57',
    );
    expect(text).toContain('kek_ref="weird\\"ref\\\\x"} 3');
  });

  it('report run progress by outcome, the rate and the backends', () => {
    expect(text).toContain('rekey_rotation_deks{run_id="r1",kek_name="pii",outcome="done"} 40');
    expect(text).toContain(
      'rekey_rotation_deks{run_id="r1",kek_name="pii",outcome="remaining"} 57',
    );
    expect(text).toContain('rekey_rotation_rate_deks_per_second{run_id="r1",kek_name="pii"} 12');
    expect(text).toContain('rekey_rotation_failed_deks{run_id="r1",kek_name="pii"} 2');
    expect(text).toContain('rekey_dashboard_backend_up{backend="control"} 0');
    expect(text).toContain('rekey_kek_versions{kek_name="pii",state="active"} 1');
    expect(text).toContain('rekey_kek_primary_age_seconds{kek_name="pii"} 3600');
  });

  it('declare every family once with HELP and TYPE before its samples', () => {
    const lines = text.trimEnd().split('\n');
    const declared = new Set<string>();
    for (const line of lines) {
      const type = /^# TYPE (\S+) (gauge|counter)$/.exec(line);
      if (type !== null) {
        expect(declared.has(type[1] as string)).toBe(false);
        declared.add(type[1] as string);
        continue;
      }
      if (line.startsWith('#')) continue;
      const name = /^([a-z_]+)[{ ]/.exec(line)?.[1] as string;
      expect(declared.has(name), line).toBe(true);
      expect(line).toMatch(/ -?\d+(\.\d+)?$/);
    }
  });
});
