import { describe, expect, it } from 'vitest';

import { createEnvelope } from './create-envelope.ts';
import { DekCache } from './dek-cache.ts';
import { parseEnvelope } from './envelope-format.ts';
import { DecryptionError, DekNotFoundError, FormatError, InputError } from './errors.ts';
import { MemoryDekStore } from './testing/memory-dek-store.ts';
import { MemoryKekProvider } from './testing/memory-kek-provider.ts';

const context = { table: 'users', column: 'email', row: '42' };

function setup(cache?: DekCache) {
  const provider = new MemoryKekProvider({ initialKeks: ['pii'] });
  const store = new MemoryDekStore();
  const envelope = createEnvelope({ provider, store, kekName: 'pii', cache });
  return { provider, store, envelope };
}

/** Rewraps every DEK of `pii` with the primary version, as a rotation run does. */
async function rewrapAll(provider: MemoryKekProvider, store: MemoryDekStore, from: string) {
  const target = await provider.primary('pii');
  const records = await store.scan({ kekName: 'pii', kekRefs: [from], limit: 1000 });
  const swaps = [];
  for (const r of records) {
    const binding = { dekId: r.id, scope: r.scope, kekName: r.kekName };
    const dek = await provider.unwrap({ kekRef: r.kekRef, bytes: r.wrapped }, binding);
    const wrapped = await provider.wrap(dek, binding, target);
    dek.fill(0);
    swaps.push({
      id: r.id,
      expectedRevision: r.revision,
      expectedKekRef: r.kekRef,
      kekRef: wrapped.kekRef,
      wrapped: wrapped.bytes,
    });
  }
  return store.compareAndSwap(swaps);
}

describe('createEnvelope', () => {
  it('encrypts and decrypts bytes and text with a context', async () => {
    const { envelope } = setup();

    const bytes = await envelope.encrypt(new Uint8Array([1, 2, 3]), { scope: 't1', context });
    const text = await envelope.encryptText('alice@example.com', { scope: 't1', context });

    expect(await envelope.decrypt(bytes, { context })).toEqual(new Uint8Array([1, 2, 3]));
    expect(text.startsWith('rk:')).toBe(true);
    expect(await envelope.decryptText(text, { context })).toBe('alice@example.com');
    await expect(envelope.decrypt(text, { context: { ...context, row: '43' } })).rejects.toThrow(
      DecryptionError,
    );
  });

  it('uses one DEK per scope, created once even under concurrent first use', async () => {
    const { envelope, store } = setup();

    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) => envelope.encrypt(`m${i}`, { scope: `s${i % 2}` })),
    );

    expect(new Set(all.map((e) => parseEnvelope(e).dekId)).size).toBe(2);
    expect(await store.findByScope('s0')).toHaveLength(1);
    expect(await store.findByScope('s1')).toHaveLength(1);
  });

  it('stores DEKs wrapped by the primary KEK version, never in clear', async () => {
    const { envelope, store } = setup();
    const ciphertext = await envelope.encrypt('x', { scope: 't1' });
    const record = await store.get(parseEnvelope(ciphertext).dekId);

    expect(record).toMatchObject({ scope: 't1', kekName: 'pii', kekRef: 'memory:pii/v1' });
    expect(record?.wrapped.length).toBe(60);
  });

  it('keeps old data decryptable across a KEK rotation and a rewrap', async () => {
    const cache = new DekCache();
    const { envelope, provider, store } = setup(cache);
    const before = await envelope.encrypt('before', { scope: 't1', context });

    await provider.rotate('pii');
    cache.clear();
    expect(await envelope.decryptText(before, { context })).toBe('before');

    const result = await rewrapAll(provider, store, 'memory:pii/v1');
    expect(result.updated).toHaveLength(1);
    await provider.disable('memory:pii/v1');
    cache.clear();

    expect(await envelope.decryptText(before, { context })).toBe('before');
    const after = await envelope.encrypt('after', { scope: 't2', context });
    const record = await store.get(parseEnvelope(after).dekId);
    expect(record?.kekRef).toBe('memory:pii/v2');
  });

  it('makes a shredded scope undecryptable and leaves others alone', async () => {
    const { envelope } = setup();
    const gone = await envelope.encrypt('gone', { scope: 't1' });
    const kept = await envelope.encrypt('kept', { scope: 't2' });

    expect(await envelope.shred('t1')).toBe(1);

    await expect(envelope.decrypt(gone)).rejects.toThrow(DekNotFoundError);
    expect(await envelope.decryptText(kept)).toBe('kept');
    const fresh = await envelope.encrypt('new', { scope: 't1' });
    expect(parseEnvelope(fresh).dekId).not.toBe(parseEnvelope(gone).dekId);
  });

  it('zeroes a shredded scope’s cached DEKs', async () => {
    const cache = new DekCache();
    const { envelope } = setup(cache);
    await envelope.encrypt('x', { scope: 't1' });
    expect(cache.size).toBe(1);

    await envelope.shred('t1');

    expect(cache.size).toBe(0);
  });

  it('unwraps each DEK once while it stays cached', async () => {
    const { envelope, provider } = setup();
    let unwraps = 0;
    const unwrap = provider.unwrap.bind(provider);
    provider.unwrap = (...args) => {
      unwraps++;
      return unwrap(...args);
    };
    const ciphertext = await envelope.encrypt('x', { scope: 't1' });
    const other = createEnvelope({ provider, store: new MemoryDekStore(), kekName: 'pii' });
    expect(unwraps).toBe(0);

    await Promise.all(Array.from({ length: 10 }, () => envelope.decrypt(ciphertext)));
    expect(unwraps).toBe(0);
    await expect(other.decrypt(ciphertext)).rejects.toThrow(DekNotFoundError);
  });

  it('unwraps again after the cache evicted the DEK', async () => {
    const cache = new DekCache({ maxUses: 2 });
    const { envelope, provider } = setup(cache);
    let unwraps = 0;
    const unwrap = provider.unwrap.bind(provider);
    provider.unwrap = (...args) => {
      unwraps++;
      return unwrap(...args);
    };
    const ciphertext = await envelope.encrypt('x', { scope: 't1' });

    // Creation counts one use; then every second decryption finds the DEK evicted.
    for (let i = 0; i < 5; i++) expect(await envelope.decryptText(ciphertext)).toBe('x');

    expect(unwraps).toBe(2);
  });

  it('refuses malformed input with precise errors', async () => {
    const { envelope } = setup();

    await expect(envelope.encrypt('x', { scope: '' })).rejects.toThrow(InputError);
    await expect(envelope.decrypt('not an envelope')).rejects.toThrow(FormatError);
    await expect(envelope.decrypt(new Uint8Array(10))).rejects.toThrow(FormatError);
    const binary = await envelope.encrypt(new Uint8Array([0xff]), { scope: 't1' });
    await expect(envelope.decryptText(binary)).rejects.toThrow(/not valid UTF-8/);
  });
});
