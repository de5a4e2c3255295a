/**
 * One rotation across PostgreSQL, MariaDB and SQLite at once: every DEK ends on the new version
 * and unwraps to the key it always was, data encrypted before still decrypts, and afterwards no
 * DEK byte (plaintext or wrapped, raw, hex or base64) is in Redis or in the worker's log.
 */
import { randomBytes } from 'node:crypto';

import { createEnvelope, type DekStore, type KekProvider } from '@rekey/crypto-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Fixture, REDIS_URL, type SeededDek } from './support/fixture.ts';
import { dumpRedis, findLeaks } from './support/leak-scan.ts';
import { spawnRekey, type WorkerProcess } from './support/worker-process.ts';

declare const Deno: unknown;

const COUNT = Number(process.env.REKEY_IT_COUNT ?? 10_000);
const DATABASES = ['pg', 'maria', 'lite'];

describe.skipIf(typeof Deno !== 'undefined')(
  'a rotation across PostgreSQL, MariaDB and SQLite',
  () => {
    const fixture = new Fixture({ databases: ['postgres', 'mysql', 'sqlite'] });
    const seeded = new Map<string, SeededDek[]>();
    const ciphertexts = new Map<
      string,
      { scope: string; row: string; text: string; sealed: Uint8Array }[]
    >();
    let provider: KekProvider;
    let oldRef: string;
    let worker: WorkerProcess;
    let rotate: { code: number; stdout: string; stderr: string };

    beforeAll(async () => {
      provider = await fixture.provider();
      await provider.rotate('pii');
      oldRef = await provider.primary('pii');
      for (const db of DATABASES) {
        seeded.set(db, await fixture.seed(db, COUNT, provider));
        const { store, close } = await fixture.store(db);
        const envelope = createEnvelope({ provider, store, kekName: 'pii' });
        const sealed = [];
        for (let i = 0; i < 60; i++) {
          const scope = `customer-${i % 20}`;
          const text = `secret ${db} ${i} ${randomBytes(4).toString('hex')}`;
          const context = { table: 'notes', row: String(i) };
          sealed.push({
            scope,
            row: String(i),
            text,
            sealed: await envelope.encrypt(text, { scope, context }),
          });
        }
        ciphertexts.set(db, sealed);
        envelope.close();
        await close();
      }

      worker = spawnRekey(fixture.configPath);
      rotate = await fixture.cli(['rotate', 'pii', '--wait', '--json']);
      worker.kill('SIGTERM');
      await worker.exited;
    }, 240_000);

    afterAll(async () => {
      worker?.kill('SIGKILL');
      await provider?.close?.();
      await fixture.cleanup();
    });

    it('completes, and rotate --wait exits 0 with a final completed line', () => {
      expect(rotate.code).toBe(0);
      const last = JSON.parse(rotate.stdout.trim().split('\n').at(-1) as string);
      expect(last).toMatchObject({ event: 'progress', phase: 'completed', kekName: 'pii' });
      expect(last.totals.done).toBe(3 * (COUNT + 20));
      expect(last.totals.remaining).toBe(0);
    });

    it('leaves every DEK in every database on the new version, unwrapping to the same key', async () => {
      const fresh = await fixture.provider();
      const target = await fresh.primary('pii');
      expect(target).not.toBe(oldRef);
      for (const db of DATABASES) {
        const { store, close } = await fixture.store(db);
        expect(await store.countByRef('pii')).toEqual([
          { kekName: 'pii', kekRef: target, count: COUNT + 20 },
        ]);
        const expected = new Map((seeded.get(db) ?? []).map((s) => [s.id, s.plaintext]));
        let checked = 0;
        for await (const record of allDeks(store, target)) {
          const binding = { dekId: record.id, scope: record.scope, kekName: 'pii' };
          const dek = await fresh.unwrap({ kekRef: record.kekRef, bytes: record.wrapped }, binding);
          const original = expected.get(record.id);
          if (original !== undefined) {
            expect(Buffer.from(dek).equals(Buffer.from(original))).toBe(true);
            checked++;
          }
        }
        expect(checked).toBe(COUNT);
        await close();
      }
      await fresh.close?.();
    }, 120_000);

    it('still decrypts every data ciphertext made before the rotation', async () => {
      const fresh = await fixture.provider();
      for (const db of DATABASES) {
        const { store, close } = await fixture.store(db);
        const envelope = createEnvelope({ provider: fresh, store, kekName: 'pii' });
        for (const c of ciphertexts.get(db) ?? []) {
          const plain = await envelope.decrypt(c.sealed, {
            context: { table: 'notes', row: c.row },
          });
          expect(new TextDecoder().decode(plain)).toBe(c.text);
        }
        envelope.close();
        await close();
      }
      await fresh.close?.();
    }, 120_000);

    it('leaves no DEK bytes, plaintext or wrapped, in Redis or in the worker log', async () => {
      const secrets: Uint8Array[] = [];
      for (const list of seeded.values())
        for (const s of list) secrets.push(s.plaintext, s.wrapped);
      for (const db of DATABASES) {
        const { store, close } = await fixture.store(db);
        for await (const r of allDeks(store)) secrets.push(r.wrapped);
        await close();
      }
      const haystacks = [
        ...(await dumpRedis(REDIS_URL, fixture.prefix)),
        { name: 'worker log', data: Buffer.from(worker.output()) },
        { name: 'rotate output', data: Buffer.from(rotate.stdout + rotate.stderr) },
      ];
      expect(haystacks.length).toBeGreaterThan(5);
      expect(worker.output()).toContain('"event":"run.completed"');
      expect(findLeaks(haystacks, secrets)).toEqual([]);

      // The scan itself finds a planted leak in each form, so an empty result means something.
      const planted = secrets[7] as Uint8Array;
      for (const form of ['hex', 'base64', 'base64url'] as const) {
        const text = `{"x":"ab${Buffer.from(planted).toString(form)}"}`;
        expect(findLeaks([{ name: form, data: Buffer.from(text) }], secrets)).toHaveLength(1);
      }
      expect(
        findLeaks([{ name: 'raw', data: Buffer.concat([Buffer.from('zz'), planted]) }], secrets),
      ).toHaveLength(1);
    }, 120_000);
  },
);

async function* allDeks(store: DekStore, ref?: string) {
  const refs = ref === undefined ? (await store.countByRef('pii')).map((c) => c.kekRef) : [ref];
  let after: string | undefined;
  for (;;) {
    const page = await store.scan({
      kekName: 'pii',
      kekRefs: refs,
      limit: 2000,
      ...(after === undefined ? {} : { after }),
    });
    yield* page;
    if (page.length < 2000) return;
    after = page.at(-1)?.id;
  }
}
