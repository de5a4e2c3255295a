/**
 * The aws-kms provider against the KMS emulator limited to R requests/s, with two workers
 * sharing the limit: the run completes with zero failed DEKs, and the request rate the
 * emulator measured never exceeds R in any one-second window.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { type KmsEmulator, startKmsEmulator } from '../kms-emulator/index.ts';
import { Fixture } from './support/fixture.ts';
import { waitFor } from './support/wait-for.ts';
import { spawnRekey, type WorkerProcess } from './support/worker-process.ts';

declare const Deno: unknown;

const R = 250;
const COUNT = 1_500;

describe.skipIf(typeof Deno !== 'undefined')(
  'a rate-limited aws-kms provider and two workers',
  () => {
    let kms: KmsEmulator | undefined;
    let fixture: Fixture | undefined;
    const workers: WorkerProcess[] = [];

    afterAll(async () => {
      for (const w of workers) w.kill('SIGKILL');
      await fixture?.cleanup();
      await kms?.close();
    });

    it('completes with zero failed DEKs and never more than R requests in a second', async () => {
      kms = await startKmsEmulator({ latencyMs: 2 });
      fixture = new Fixture({
        databases: ['postgres'],
        kek: {
          name: 'pii',
          provider: 'aws-kms',
          settings: {
            endpoint: kms.endpoint,
            region: kms.region,
            accessKeyId: 'AKIDEXAMPLE',
            secretAccessKey: { env: 'REKEY_TEST_AWS_SECRET' },
          },
          requestsPerSecond: R,
        },
        env: { REKEY_TEST_AWS_SECRET: 'emulator-secret' },
      });
      const provider = await fixture.provider();
      await fixture.seed('pg', COUNT, provider);
      const control = await fixture.control();

      kms.setRateLimit({ requestsPerSecond: R });
      kms.resetCounts();
      const samples: { at: number; total: number }[] = [];
      const sampler = setInterval(() => {
        samples.push({ at: performance.now(), total: kms?.counts().total ?? 0 });
      }, 20);

      workers.push(spawnRekey(fixture.configPath, ['worker'], fixture.env));
      workers.push(spawnRekey(fixture.configPath, ['worker'], fixture.env));
      const rotate = await fixture.cli(['rotate', 'pii', '--json']);
      const runId = JSON.parse(rotate.stdout).runId as string;
      const run = await waitFor(
        'the run to finish',
        async () => {
          const r = await control.getRun(runId);
          return r?.phase === 'completed' || r?.phase === 'failed' ? r : undefined;
        },
        120_000,
        100,
      );
      clearInterval(sampler);

      expect(run.phase).toBe('completed');
      const progress = await control.getProgress(runId);
      expect(progress.map((p) => [p.done, p.failed])).toEqual([[COUNT, 0]]);
      // Both workers took part.
      for (const w of workers) expect(w.output()).toContain('"event":"worker.started"');

      let busiest = 0;
      for (let i = 0, j = 0; i < samples.length; i++) {
        const from = samples[i] as { at: number; total: number };
        while (j + 1 < samples.length && (samples[j + 1] as { at: number }).at - from.at <= 1_000)
          j++;
        busiest = Math.max(busiest, (samples[j] as { total: number }).total - from.total);
      }
      const counts = kms.counts();
      console.info(
        `requests ${counts.total}, throttled ${counts.throttled}, busiest second ${busiest}, R ${R}`,
        JSON.stringify(counts.byOperation),
      );
      expect(counts.byOperation.ReEncrypt).toBeGreaterThanOrEqual(COUNT);
      expect(busiest).toBeLessThanOrEqual(R);
      // The shared pacing kept the run close to the limit, not far below it.
      expect(busiest).toBeGreaterThan(R * 0.5);
      expect(counts.throttled).toBe(0);
      await control.close();
      await provider.close?.();
    }, 180_000);
  },
);
