/**
 * Retiring old KEK versions: after a verified run and the configured grace period the worker
 * disables every old version nothing references (never destroys it); `rekey retire` refuses a
 * primary or a referenced version.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { Fixture } from './support/fixture.ts';
import { waitFor } from './support/wait-for.ts';
import { spawnRekey, type WorkerProcess } from './support/worker-process.ts';

declare const Deno: unknown;

describe.skipIf(typeof Deno !== 'undefined')('retiring old versions', () => {
  const fixture = new Fixture({
    databases: ['sqlite'],
    kek: { name: 'pii', provider: 'local', settings: { path: 'keyring.json' }, retireAfter: '1s' },
  });
  let worker: WorkerProcess | undefined;

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await fixture.cleanup();
  });

  it('refuses referenced or primary versions, and disables old ones after the grace period', async () => {
    const provider = await fixture.provider();
    await fixture.seed('lite', 1_500, provider);
    const v1 = await provider.primary('pii');

    const primary = await fixture.cli(['retire', v1, '--json']);
    expect(primary.code).toBe(1);
    expect(JSON.parse(primary.stdout)).toMatchObject({
      retired: false,
      reason: 'it is the primary version',
    });

    worker = spawnRekey(fixture.configPath);
    // Rotate by hand to a second version first, so v1 is old but still referenced.
    await provider.rotate('pii');
    const referenced = await fixture.cli(['retire', v1, '--json']);
    expect(referenced.code).toBe(1);
    expect(JSON.parse(referenced.stdout)).toMatchObject({ retired: false, references: 1_500 });

    const rotate = await fixture.cli(['rotate', 'pii', '--wait', '--json']);
    expect(rotate.code).toBe(0);
    const last = JSON.parse(rotate.stdout.trim().split('\n').at(-1) as string);
    const target = last.targetRef as string;

    const control = await fixture.control();
    await waitFor(
      'the retire step',
      async () => (await control.getRun(last.id))?.retiredAt,
      30_000,
      100,
    );
    const fresh = await fixture.provider();
    const states = Object.fromEntries((await fresh.describe('pii')).map((v) => [v.ref, v.state]));
    // v1 and the hand-made v2 are disabled, kept; the target is primary.
    expect(Object.values(states).filter((s) => s === 'disabled')).toHaveLength(2);
    expect(states[v1]).toBe('disabled');
    expect(states[target]).toBe('primary');
    const audit = await control.listAudit({ runId: last.id });
    expect(
      audit
        .filter((a) => a.action === 'kek.retired')
        .map((a) => a.kekRef)
        .sort(),
    ).toEqual(
      Object.keys(states)
        .filter((r) => r !== target)
        .sort(),
    );
    const verify = await fixture.cli(['verify', 'pii', '--json']);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, remaining: 0, sampleFailures: 0 });
    await control.close();
    await fresh.close?.();
    await provider.close?.();
  }, 120_000);
});
