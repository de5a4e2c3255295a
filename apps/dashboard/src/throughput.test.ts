import { describe, expect, it } from 'vitest';

import { etaSeconds, ThroughputTracker } from './throughput.ts';

describe('the throughput tracker', () => {
  it('measures the rate over the recent window', () => {
    const t = new ThroughputTracker();
    for (let s = 0; s <= 60; s++) t.record('run', s * 1_000, s * 500);
    expect(t.rate('run')).toBe(500);
    expect(t.rate('other')).toBe(0);
  });

  it('charts the rate over the few seconds before each sample, smoothing bursts', () => {
    const t = new ThroughputTracker();
    t.record('run', 0, 0);
    t.record('run', 1_000, 100);
    t.record('run', 3_000, 500);
    t.record('run', 9_000, 500);
    t.record('run', 10_000, 1_500);
    expect(t.series('run')).toEqual([
      { t: 1_000, perSecond: 100 },
      { t: 3_000, perSecond: 167 },
      { t: 9_000, perSecond: 0 },
      { t: 10_000, perSecond: 1_000 },
    ]);
  });

  it('merges samples closer than half a second and restarts when counts go back', () => {
    const t = new ThroughputTracker();
    t.record('run', 0, 0);
    t.record('run', 1_000, 100);
    t.record('run', 1_200, 150);
    expect(t.series('run')).toEqual([{ t: 1_200, perSecond: 125 }]);
    t.record('run', 2_000, 10);
    expect(t.series('run')).toEqual([]);
  });
});

describe('the ETA', () => {
  it('is the remaining work at the current rate, zero when done and unknown when stalled', () => {
    expect(etaSeconds(1_000, 100)).toBe(10);
    expect(etaSeconds(1_001, 100)).toBe(11);
    expect(etaSeconds(0, 0)).toBe(0);
    expect(etaSeconds(10, 0)).toBeNull();
  });
});
