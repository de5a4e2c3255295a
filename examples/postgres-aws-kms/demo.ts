/**
 * The walk-through both entries run: customers encrypted with rekey's envelope on PostgreSQL,
 * their DEKs wrapped by AWS KMS (or LocalStack, or the test emulator). It prints what happens
 * at each step and returns a summary; it never prints key material.
 */
import {
  createEnvelope,
  DecryptionError,
  DekNotFoundError,
  type EncryptionContext,
} from '@rekey/crypto-core';
import { AwsKmsKekProvider } from '@rekey/kek-providers/aws-kms';
import { PostgresDekStore } from '@rekey/storage-adapters/postgres';
import { CustomerVault } from './customer-vault.ts';
import { connect } from './database.ts';
import type { Settings } from './settings.ts';

/** What a run did, for the caller (and the example's test) to check. */
export interface DemoSummary {
  readonly kekVersions: number;
  readonly customers: number;
  readonly readable: number;
  readonly movedValueRejected: boolean;
  readonly shreddedDeks: number;
  readonly unreadableAfterShred: number;
  readonly dekRefs: number;
}

/** Runs the walk-through once against the given database and KMS. */
export async function runDemo(
  settings: Settings,
  print: (line: string) => void,
): Promise<DemoSummary> {
  const sql = connect(settings.databaseUrl);
  const provider = new AwsKmsKekProvider({
    region: settings.region,
    ...(settings.kmsEndpoint === undefined ? {} : { endpoint: settings.kmsEndpoint }),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
  });
  try {
    // 1. The DEK table and a KEK in KMS. rotate() creates the first version when there is none.
    const store = new PostgresDekStore(sql, { table: `${settings.tablePrefix}rekey_deks` });
    await store.migrate();
    if ((await provider.describe(settings.kekName)).length === 0) {
      await provider.rotate(settings.kekName);
    }
    print(`1. KEK "${settings.kekName}" is ${await provider.primary(settings.kekName)}`);

    // 2. Customers, e-mail addresses encrypted; one DEK per tenant, cached after first use.
    const envelope = createEnvelope({ provider, store, kekName: settings.kekName });
    const vault = new CustomerVault(sql, envelope, `${settings.tablePrefix}customers`);
    await vault.migrate();
    const alice = await vault.add({ tenant: 'acme', name: 'Alice', email: 'alice@acme.test' });
    const bob = await vault.add({ tenant: 'acme', name: 'Bob', email: 'bob@acme.test' });
    const carol = await vault.add({ tenant: 'globex', name: 'Carol', email: 'carol@globex.test' });
    const [stored] = await sql<{ email: string }[]>`SELECT email FROM ${sql(vault.table)}
      WHERE id = ${alice}`;
    print(`2. stored Alice's e-mail as ${stored?.email.slice(0, 32)}...`);
    print(`   read back: ${(await vault.get(alice))?.email}`);

    // 3. Copy Alice's ciphertext onto Bob's row: it is bound to Alice's row, so it fails.
    await sql`UPDATE ${sql(vault.table)} SET email = ${stored?.email ?? ''} WHERE id = ${bob}`;
    const moved = await vault.get(bob).catch((error: unknown) => error);
    const movedValueRejected = moved instanceof DecryptionError;
    print(`3. Alice's value on Bob's row: ${movedValueRejected ? 'refused' : 'DECRYPTED?!'}`);
    await sql`UPDATE ${sql(vault.table)} SET email = ${await envelope.encryptText('bob@acme.test', {
      scope: 'acme',
      context: { table: vault.table, column: 'email', row: bob } satisfies EncryptionContext,
    })} WHERE id = ${bob}`;

    // 4. A new KEK version in KMS: new DEKs use it, old ones still unwrap.
    const v2 = await provider.rotate(settings.kekName);
    const dave = await vault.add({ tenant: 'initech', name: 'Dave', email: 'dave@initech.test' });
    print(`4. rotated to ${v2.ref}; Dave (new tenant) reads ${(await vault.get(dave))?.email}`);
    const counts = await store.countByRef(settings.kekName);
    for (const { kekRef, count } of counts) print(`   ${count} DEK(s) wrapped by ${kekRef}`);

    // 5. Forget a tenant: crypto-shredding leaves its rows unreadable for good.
    const shreddedDeks = await vault.forgetTenant('globex');
    const gone = await vault.get(carol).catch((error: unknown) => error);
    print(`5. shredded ${shreddedDeks} DEK(s) of globex; Carol now: ${outcomeOf(gone)}`);

    let readable = 0;
    for (const id of [alice, bob, carol, dave]) {
      if (
        await vault.get(id).then(
          () => true,
          () => false,
        )
      )
        readable++;
    }
    envelope.close();
    return {
      kekVersions: (await provider.describe(settings.kekName)).length,
      customers: 4,
      readable,
      movedValueRejected,
      shreddedDeks,
      unreadableAfterShred: gone instanceof DekNotFoundError ? 1 : 0,
      dekRefs: counts.length,
    };
  } finally {
    await provider.close();
    await sql.end();
  }
}

function outcomeOf(outcome: unknown): string {
  if (outcome instanceof DekNotFoundError) return 'unreadable (its DEK is gone)';
  if (outcome instanceof Error) return `${outcome.name}`;
  return 'still readable?!';
}
