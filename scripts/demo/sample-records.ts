/**
 * Encrypted sample records: made with `createEnvelope` before the rotation, decrypted after
 * it, to show that data keeps decrypting while its DEKs move to a new KEK version.
 */
import { readFileSync, writeFileSync } from 'node:fs';

import { loadConfigFile } from '../../apps/worker/src/config.ts';
import { openDekStore, openKekProvider } from '../../apps/worker/src/plugins.ts';
import { createEnvelope } from '../../packages/crypto-core/src/index.ts';
import { DEMO_KEK } from './demo-config.ts';

/** One sample as kept in samples.json: demo data, not a secret. */
export interface SampleRecord {
  readonly database: string;
  readonly scope: string;
  readonly context: Record<string, string>;
  readonly plaintext: string;
  readonly envelope: string;
}

const ITEMS = ['coffee beans', 'tea leaves', 'dark chocolate', 'olive oil', 'saffron', 'honey'];

/** Encrypts `perDatabase` records in each database, one DEK scope per customer. */
export async function createSamples(
  configPath: string,
  samplesPath: string,
  perDatabase: number,
): Promise<SampleRecord[]> {
  const samples: SampleRecord[] = [];
  await withEnvelopes(configPath, async (database, envelope) => {
    for (let i = 1; i <= perDatabase; i++) {
      const scope = `customer-${1 + (i % 4)}`;
      const context = { table: database, row: String(i) };
      const plaintext = `${database} #${i}: ${1 + (i % 5)} x ${ITEMS[i % ITEMS.length]}`;
      const encrypted = await envelope.encryptText(plaintext, { scope, context });
      samples.push({ database, scope, context, plaintext, envelope: encrypted });
    }
  });
  writeFileSync(samplesPath, `${JSON.stringify(samples, null, 2)}\n`, { mode: 0o600 });
  return samples;
}

/** How many of the stored samples decrypt to their plaintext now. */
export async function checkSamples(
  configPath: string,
  samplesPath: string,
): Promise<{ total: number; ok: number }> {
  const samples = JSON.parse(readFileSync(samplesPath, 'utf8')) as SampleRecord[];
  let ok = 0;
  await withEnvelopes(configPath, async (database, envelope) => {
    for (const sample of samples.filter((s) => s.database === database)) {
      const text = await envelope
        .decryptText(sample.envelope, { context: sample.context })
        .catch(() => undefined);
      if (text === sample.plaintext) ok++;
    }
  });
  return { total: samples.length, ok };
}

async function withEnvelopes(
  configPath: string,
  use: (database: string, envelope: ReturnType<typeof createEnvelope>) => Promise<void>,
): Promise<void> {
  const config = loadConfigFile(configPath);
  const kek = config.keks.find((k) => k.name === DEMO_KEK);
  if (kek === undefined) throw new Error(`the demo config has no kek ${DEMO_KEK}`);
  const provider = await openKekProvider(kek, config.baseDir);
  try {
    for (const db of config.databases) {
      const opened = await openDekStore(db);
      // A fresh envelope per pass: nothing cached, every DEK is unwrapped from the store.
      const envelope = createEnvelope({ provider, store: opened.store, kekName: DEMO_KEK });
      try {
        await use(db.name, envelope);
      } finally {
        envelope.close();
        await opened.close();
      }
    }
  } finally {
    await provider.close?.();
  }
}
