import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { newDekId, randomBytes, toBase64Url, toHex, utf8 } from '@rekey/crypto-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { nodeFileSystem, type PrivateFileSystem } from '../_private-file.ts';
import { LocalKekProvider } from './local-kek-provider.ts';

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rekey-local-'));
  path = join(dir, 'keyring.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const binding = { dekId: newDekId(), scope: 'tenant-1', kekName: 'pii' };

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a failure');
}

describe('LocalKekProvider keyring file', () => {
  it('creates the keyring with mode 0600 and schema version 1', async () => {
    const provider = await LocalKekProvider.open({ path });
    await provider.rotate('pii');

    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const json = JSON.parse(await readFile(path, 'utf8'));
    expect(json.version).toBe(1);
    expect(json.keks.pii).toHaveLength(1);
    expect(json.keks.pii[0]).toMatchObject({ version: 1, state: 'primary' });
  });

  it('refuses a keyring that group or others may read, naming the path and mode', async () => {
    await (await LocalKekProvider.open({ path })).rotate('pii');
    await chmod(path, 0o644);

    const error = await failure(LocalKekProvider.open({ path }));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(path);
    expect(error.message).toContain('0644');
  });

  it('refuses a missing keyring when told not to create one', async () => {
    const error = await failure(LocalKekProvider.open({ path, create: false }));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(path);
  });

  it('names the path when the keyring directory does not exist', async () => {
    const missing = join(dir, 'no-such-dir', 'keyring.json');

    const error = await failure(LocalKekProvider.open({ path: missing }));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(missing);
  });

  it('keeps versions and states across a reopen', async () => {
    const first = await LocalKekProvider.open({ path });
    await first.rotate('pii');
    const dek = randomBytes(32);
    const wrapped = await first.wrap(dek, binding);
    await first.rotate('pii');
    await first.close();

    const second = await LocalKekProvider.open({ path });

    expect((await second.describe('pii')).map((v) => v.state)).toEqual(['active', 'primary']);
    expect(toHex(await second.unwrap(wrapped, binding))).toBe(toHex(dek));
  });

  it('unwraps with a version another process added after this one loaded the keyring', async () => {
    const reader = await LocalKekProvider.open({ path });
    const writer = await LocalKekProvider.open({ path });
    await writer.rotate('pii');
    const dek = randomBytes(32);

    const wrapped = await writer.wrap(dek, binding);

    expect(toHex(await reader.unwrap(wrapped, binding))).toBe(toHex(dek));
  });

  it('serialises concurrent rotations so that no new version is lost', async () => {
    const provider = await LocalKekProvider.open({ path });

    const refs = await Promise.all([1, 2, 3, 4].map(() => provider.rotate('pii')));
    const reopened = await LocalKekProvider.open({ path });

    expect(refs.map((v) => v.ref).sort()).toEqual([1, 2, 3, 4].map((n) => `local:pii/v${n}`));
    expect((await reopened.describe('pii')).map((v) => v.state)).toEqual([
      'active',
      'active',
      'active',
      'primary',
    ]);
  });

  it('follows rotations another process made once the refresh interval passed', async () => {
    const writer = await LocalKekProvider.open({ path });
    await writer.rotate('pii');
    const reader = await LocalKekProvider.open({ path, refreshMs: 0 });
    expect(await reader.primary('pii')).toBe('local:pii/v1');

    await writer.rotate('pii');

    expect(await reader.primary('pii')).toBe('local:pii/v2');
    expect((await reader.wrap(randomBytes(32), binding)).kekRef).toBe('local:pii/v2');
  });

  it('leaves the old keyring intact when a rotate crashes before the rename', async () => {
    await (await LocalKekProvider.open({ path })).rotate('pii');
    const before = await readFile(path, 'utf8');
    let crash = true;
    const crashing: PrivateFileSystem = {
      ...nodeFileSystem,
      rename: async (from, to) => {
        if (crash) throw Object.assign(new Error('simulated crash'), { code: 'EIO' });
        await nodeFileSystem.rename(from, to);
      },
    };
    const provider = await LocalKekProvider.open({ path, fileSystem: crashing });
    const v1 = await provider.primary('pii');

    const error = await failure(provider.rotate('pii'));

    expect(error.code).toBe('KEK_UNAVAILABLE');
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['keyring.json']);
    expect(await provider.primary('pii')).toBe(v1);
    crash = false;
    expect((await provider.rotate('pii')).ref).toBe('local:pii/v2');
    const reopened = await LocalKekProvider.open({ path });
    expect(await reopened.primary('pii')).toBe('local:pii/v2');
  });

  it('opens a keyring next to a temporary file a crash left behind', async () => {
    await (await LocalKekProvider.open({ path })).rotate('pii');
    await writeFile(join(dir, '.keyring.json.0123456789ab.tmp'), '{"version": 1, "ke', {
      mode: 0o600,
    });

    const provider = await LocalKekProvider.open({ path });

    expect(await provider.primary('pii')).toBe('local:pii/v1');
  });

  it('rejects a malformed keyring without quoting key material', async () => {
    const short = toBase64Url(randomBytes(16));
    const keyring = {
      version: 1,
      keks: {
        pii: [{ version: 1, createdAt: new Date().toISOString(), state: 'primary', key: short }],
      },
    };
    await writeFile(path, JSON.stringify(keyring), { mode: 0o600 });

    const error = await failure(LocalKekProvider.open({ path }));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('keks.pii[0].key');
    expect(error.message).not.toContain(short);
  });

  it('rejects a keyring with two primary versions of one KEK', async () => {
    const key = toBase64Url(randomBytes(32));
    const createdAt = new Date().toISOString();
    const keyring = {
      version: 1,
      keks: {
        pii: [
          { version: 1, createdAt, state: 'primary', key },
          { version: 2, createdAt, state: 'primary', key },
        ],
      },
    };
    await writeFile(path, JSON.stringify(keyring), { mode: 0o600 });

    expect((await failure(LocalKekProvider.open({ path }))).code).toBe('CONFIG_INVALID');
  });
});

describe('LocalKekProvider from an environment variable', () => {
  it('unwraps read-only and refuses to rotate or disable', async () => {
    const file = await LocalKekProvider.open({ path });
    await file.rotate('pii');
    const dek = randomBytes(32);
    const wrapped = await file.wrap(dek, binding);
    await file.rotate('pii');
    const env = { REKEY_KEYRING: await readFile(path, 'utf8') };

    const provider = LocalKekProvider.fromEnv('REKEY_KEYRING', env);

    expect(toHex(await provider.unwrap(wrapped, binding))).toBe(toHex(dek));
    expect((await failure(provider.rotate('pii'))).code).toBe('CONFIG_INVALID');
    expect((await failure(provider.disable(wrapped.kekRef))).code).toBe('CONFIG_INVALID');
    expect(await provider.primary('pii')).toBe('local:pii/v2');
  });

  it('accepts the keyring in base64url form', async () => {
    const file = await LocalKekProvider.open({ path });
    await file.rotate('pii');
    const env = { KEYS: toBase64Url(utf8(await readFile(path, 'utf8'))) };

    const provider = LocalKekProvider.fromEnv('KEYS', env);

    expect(await provider.primary('pii')).toBe('local:pii/v1');
  });

  it('names the variable when it is not set', () => {
    expect(() => LocalKekProvider.fromEnv('REKEY_NOPE', {})).toThrow('REKEY_NOPE');
  });
});
