import { describe, expect, it } from 'vitest';

import { newDekId } from '../dek-id.ts';
import { ConfigError, DecryptionError, InputError, KekRefError } from '../errors.ts';
import type { KekProvider } from '../kek-provider.ts';
import { randomBytes } from '../primitives.ts';
import { MemoryKekProvider } from './memory-kek-provider.ts';

const binding = () => ({ dekId: newDekId(), scope: 'tenant-1', kekName: 'pii' });

describe('MemoryKekProvider', () => {
  it('wraps with the primary version and unwraps to the same DEK', async () => {
    const provider = new MemoryKekProvider({ initialKeks: ['pii'] });
    const dek = randomBytes(32);
    const b = binding();

    const wrapped = await provider.wrap(dek, b);

    expect(wrapped.kekRef).toBe('memory:pii/v1');
    expect(wrapped.bytes.length).toBe(12 + 32 + 16);
    expect(await provider.unwrap(wrapped, b)).toEqual(dek);
  });

  it('creates v1 on the first rotation and makes each new version primary', async () => {
    const provider = new MemoryKekProvider();
    await expect(provider.primary('pii')).rejects.toMatchObject({ code: 'KEK_REF_UNKNOWN' });

    expect((await provider.rotate('pii')).ref).toBe('memory:pii/v1');
    expect((await provider.rotate('pii')).ref).toBe('memory:pii/v2');

    expect(await provider.primary('pii')).toBe('memory:pii/v2');
    const states = (await provider.describe('pii')).map((v) => [v.ref, v.state]);
    expect(states).toEqual([
      ['memory:pii/v1', 'active'],
      ['memory:pii/v2', 'primary'],
    ]);
    expect(await provider.describe('other')).toEqual([]);
  });

  it('fails to unwrap under any other dek id, scope, kek name or ref', async () => {
    const provider = new MemoryKekProvider({ initialKeks: ['pii', 'other'] });
    await provider.rotate('pii');
    const b = binding();
    const wrapped = await provider.wrap(randomBytes(32), b, 'memory:pii/v1');

    await expect(provider.unwrap(wrapped, { ...b, dekId: newDekId() })).rejects.toThrow(
      DecryptionError,
    );
    await expect(provider.unwrap(wrapped, { ...b, scope: 'tenant-2' })).rejects.toThrow(
      DecryptionError,
    );
    await expect(provider.unwrap(wrapped, { ...b, kekName: 'other' })).rejects.toThrow(
      DecryptionError,
    );
    await expect(provider.unwrap({ ...wrapped, kekRef: 'memory:pii/v2' }, b)).rejects.toThrow(
      DecryptionError,
    );
  });

  it('refuses unknown and disabled refs with KekRefError codes', async () => {
    const provider = new MemoryKekProvider({ initialKeks: ['pii'] });
    const b = binding();
    const wrapped = await provider.wrap(randomBytes(32), b);
    await provider.rotate('pii');

    await expect(provider.unwrap({ ...wrapped, kekRef: 'memory:pii/v9' }, b)).rejects.toMatchObject(
      { code: 'KEK_REF_UNKNOWN' },
    );
    await expect(provider.wrap(randomBytes(32), b, 'memory:pii/v9')).rejects.toThrow(KekRefError);

    await provider.disable('memory:pii/v1');
    await expect(provider.unwrap(wrapped, b)).rejects.toMatchObject({ code: 'KEK_REF_DISABLED' });
    await expect(provider.wrap(randomBytes(32), b, 'memory:pii/v1')).rejects.toMatchObject({
      code: 'KEK_REF_DISABLED',
    });
  });

  it('refuses to disable the primary version and to wrap a DEK that is not 32 bytes', async () => {
    const provider = new MemoryKekProvider({ initialKeks: ['pii'] });

    await expect(provider.disable('memory:pii/v1')).rejects.toThrow(ConfigError);
    await expect(provider.wrap(randomBytes(16), binding())).rejects.toThrow(InputError);
    expect((provider as KekProvider).rewrap).toBeUndefined();
  });
});
