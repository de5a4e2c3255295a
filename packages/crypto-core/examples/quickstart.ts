/**
 * A walk through rekey's envelope encryption with the in-memory provider and store (for
 * examples only: real deployments use a KMS, an HSM or a keyring, and a database).
 *
 * Run it with `pnpm --filter @rekey/crypto-core run example` at the repository root. It never
 * prints key bytes.
 */
import {
  createEnvelope,
  DecryptionError,
  DekNotFoundError,
  fromText,
  parseEnvelope,
} from '@rekey/crypto-core';
import { MemoryDekStore, MemoryKekProvider } from '@rekey/crypto-core/testing';

const step = (n: number, text: string) => console.log(`\n${n}. ${text}`);

// A KEK named "pii" with one version, and an empty DEK store.
const provider = new MemoryKekProvider({ initialKeks: ['pii'] });
const store = new MemoryDekStore();
const envelope = createEnvelope({ provider, store, kekName: 'pii' });

step(1, 'Encrypt an e-mail address for tenant "acme", bound to its row');
const context = { table: 'users', column: 'email', row: '42' };
const ciphertext = await envelope.encryptText('alice@example.com', { scope: 'acme', context });
const header = parseEnvelope(fromText(ciphertext));
console.log(`   stored value: ${ciphertext.slice(0, 40)}... (${ciphertext.length} chars)`);
console.log(`   encrypted with DEK ${header.dekId}`);
const [record] = await store.findByScope('acme');
console.log(`   that DEK is stored wrapped by ${record?.kekRef} (${record?.wrapped.length} bytes)`);

step(2, 'Decrypt it with the same context');
console.log(`   -> ${await envelope.decryptText(ciphertext, { context })}`);

step(3, 'Try to decrypt it as if it belonged to another row');
try {
  await envelope.decryptText(ciphertext, { context: { ...context, row: '43' } });
  console.log('   unexpected: it decrypted');
} catch (error) {
  if (!(error instanceof DecryptionError)) throw error;
  console.log(`   refused: ${error.name} (${error.code}): ${error.message}`);
}

step(4, 'Rotate the KEK: a new primary version wraps new DEKs');
const v2 = await provider.rotate('pii');
console.log(`   primary is now ${v2.ref}`);
const bob = await envelope.encryptText('bob@example.com', { scope: 'globex', context });
const bobDek = await store.get(parseEnvelope(fromText(bob)).dekId);
console.log(`   a new tenant's DEK is wrapped by ${bobDek?.kekRef}`);
console.log(
  `   the old record still decrypts: ${await envelope.decryptText(ciphertext, { context })}`,
);

step(5, 'Rewrap the DEKs still on v1 (what the rotation worker does), then disable v1');
const onV1 = await store.scan({ kekName: 'pii', kekRefs: ['memory:pii/v1'], limit: 1000 });
const swaps = [];
for (const dek of onV1) {
  const binding = { dekId: dek.id, scope: dek.scope, kekName: dek.kekName };
  const clear = await provider.unwrap({ kekRef: dek.kekRef, bytes: dek.wrapped }, binding);
  const rewrapped = await provider.wrap(clear, binding, v2.ref);
  clear.fill(0);
  swaps.push({
    id: dek.id,
    expectedRevision: dek.revision,
    expectedKekRef: dek.kekRef,
    kekRef: rewrapped.kekRef,
    wrapped: rewrapped.bytes,
  });
}
const { updated } = await store.compareAndSwap(swaps);
await provider.disable('memory:pii/v1');
console.log(`   rewrapped ${updated.length} DEK(s); the data itself was not touched`);
console.log(`   DEKs per KEK version: ${JSON.stringify(await store.countByRef('pii'))}`);
// A fresh envelope has an empty DEK cache, like another process: it must unwrap with v2.
const fresh = createEnvelope({ provider, store, kekName: 'pii' });
console.log(`   a fresh process decrypts it: ${await fresh.decryptText(ciphertext, { context })}`);
fresh.close();

step(6, 'Shred tenant "acme": delete its DEKs, and its data is gone for good');
console.log(`   DEKs deleted: ${await envelope.shred('acme')}`);
try {
  await envelope.decryptText(ciphertext, { context });
  console.log('   unexpected: it decrypted');
} catch (error) {
  if (!(error instanceof DekNotFoundError)) throw error;
  console.log(`   refused: ${error.name} (${error.code})`);
}
console.log(`   tenant "globex" is untouched: ${await envelope.decryptText(bob, { context })}`);

envelope.close();
await provider.close();
