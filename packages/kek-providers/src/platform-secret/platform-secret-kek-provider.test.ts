import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { newDekId, randomBytes, toHex } from '@rekey/crypto-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { PlatformSecretKekProvider } from './platform-secret-kek-provider.ts';

let dir: string;
let stateFile: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rekey-platform-'));
  stateFile = join(dir, 'state.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const binding = { dekId: newDekId(), scope: 'tenant-1', kekName: 'pii' };
const SECRET = 'a platform secret of forty-two characters!';

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a failure');
}

describe('PlatformSecretKekProvider secrets', () => {
  it('refuses a secret shorter than 32 bytes, naming the variable but not the value', async () => {
    const short = 'x'.repeat(31);

    const error = await failure(
      PlatformSecretKekProvider.open({
        secret: { env: 'APP_SECRET' },
        versions: { stateFile },
        env: { APP_SECRET: short },
      }),
    );

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('APP_SECRET');
    expect(error.message).not.toContain(short);
  });

  it('refuses a missing variable', async () => {
    const open = PlatformSecretKekProvider.open({
      secret: { env: 'APP_SECRET' },
      versions: { stateFile },
      env: {},
    });

    expect((await failure(open)).code).toBe('CONFIG_INVALID');
  });

  it('reads the secret from a private file and refuses a world-readable one', async () => {
    const secretFile = join(dir, 'secret');
    await writeFile(secretFile, SECRET, { mode: 0o600 });
    const provider = await PlatformSecretKekProvider.open({
      secret: { file: secretFile },
      versions: { stateFile },
    });
    await provider.rotate('pii');
    await chmod(secretFile, 0o644);

    const error = await failure(
      PlatformSecretKekProvider.open({ secret: { file: secretFile }, versions: { stateFile } }),
    );

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(secretFile);
  });

  it('takes a secret the caller already resolved, and refuses malformed options', async () => {
    const provider = await PlatformSecretKekProvider.open({
      secret: { value: SECRET },
      versions: { stateFile },
    });
    await provider.rotate('pii');

    const noVersions = PlatformSecretKekProvider.open({ secret: { value: SECRET } } as never);
    const badSecret = PlatformSecretKekProvider.open({
      secret: SECRET,
      versions: { stateFile },
    } as never);

    expect(await provider.primary('pii')).toBe('platform-secret:pii/v1');
    expect((await failure(noVersions)).code).toBe('CONFIG_INVALID');
    const error = await failure(badSecret);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).not.toContain(SECRET);
  });

  it('derives the same KEKs in another process from the same secret and state', async () => {
    const options = { secret: { env: 'S' }, versions: { stateFile }, env: { S: SECRET } };
    const first = await PlatformSecretKekProvider.open(options);
    await first.rotate('pii');
    const dek = randomBytes(32);
    const wrapped = await first.wrap(dek, binding);
    await first.close();

    const second = await PlatformSecretKekProvider.open(options);

    expect(toHex(await second.unwrap(wrapped, binding))).toBe(toHex(dek));
  });

  it('cannot unwrap with another secret', async () => {
    const first = await PlatformSecretKekProvider.open({
      secret: { env: 'S' },
      versions: { stateFile },
      env: { S: SECRET },
    });
    await first.rotate('pii');
    const wrapped = await first.wrap(randomBytes(32), binding);

    const other = await PlatformSecretKekProvider.open({
      secret: { env: 'S' },
      versions: { stateFile },
      env: { S: `${SECRET}?` },
    });

    expect((await failure(other.unwrap(wrapped, binding))).code).toBe('DECRYPTION_FAILED');
  });
});

describe('PlatformSecretKekProvider versions', () => {
  it('keeps labels and states in the state file and never key material', async () => {
    const provider = await PlatformSecretKekProvider.open({
      secret: { env: 'S' },
      versions: { stateFile },
      env: { S: SECRET },
    });
    await provider.rotate('pii');
    await provider.rotate('pii');
    await provider.disable('platform-secret:pii/v1');

    const json = JSON.parse(await readFile(stateFile, 'utf8'));

    expect(json.version).toBe(1);
    expect(json.keks.pii.map((v: { label: string; state: string }) => [v.label, v.state])).toEqual([
      ['v1', 'disabled'],
      ['v2', 'primary'],
    ]);
    expect(Object.keys(json.keks.pii[0]).sort()).toEqual(['createdAt', 'label', 'state']);
  });

  it('takes read-only versions from configuration, the last label primary', async () => {
    const provider = await PlatformSecretKekProvider.open({
      secret: { env: 'S' },
      env: { S: SECRET },
      versions: {
        keks: {
          pii: [
            { label: '2024-01', disabled: true },
            { label: '2025-01', createdAt: '2025-01-01T00:00:00Z' },
            { label: '2026-01' },
          ],
        },
      },
    });

    const versions = await provider.describe('pii');

    expect(versions.map((v) => [v.ref, v.state])).toEqual([
      ['platform-secret:pii/2024-01', 'disabled'],
      ['platform-secret:pii/2025-01', 'active'],
      ['platform-secret:pii/2026-01', 'primary'],
    ]);
    expect(versions[1]?.createdAt.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect((await failure(provider.rotate('pii'))).code).toBe('CONFIG_INVALID');
    const wrapped = await provider.wrap(randomBytes(32), binding);
    expect(wrapped.kekRef).toBe('platform-secret:pii/2026-01');
  });

  it('unwraps DEKs of a configured label once it is configured in another instance', async () => {
    const config = (labels: string[]) => ({
      secret: { env: 'S' },
      env: { S: SECRET },
      versions: { keks: { pii: labels.map((label) => ({ label })) } },
    });
    const before = await PlatformSecretKekProvider.open(config(['a']));
    const dek = randomBytes(32);
    const wrapped = await before.wrap(dek, binding);

    const after = await PlatformSecretKekProvider.open(config(['a', 'b']));

    expect(await after.primary('pii')).toBe('platform-secret:pii/b');
    expect(toHex(await after.unwrap(wrapped, binding))).toBe(toHex(dek));
  });

  it('refuses a configuration whose primary label is disabled', async () => {
    const open = PlatformSecretKekProvider.open({
      secret: { env: 'S' },
      env: { S: SECRET },
      versions: { keks: { pii: [{ label: 'a' }, { label: 'b', disabled: true }] } },
    });

    expect((await failure(open)).code).toBe('CONFIG_INVALID');
  });
});

describe('PlatformSecretKekProvider state file shared by two instances', () => {
  // Two instances share nothing in memory, as two processes would: only the lock file orders
  // their changes to the state file.
  it('keeps a disable made while the other instance rotates, race after race', async () => {
    const options = { secret: { env: 'S' }, versions: { stateFile }, env: { S: SECRET } };
    const [a, b] = await Promise.all([
      PlatformSecretKekProvider.open(options),
      PlatformSecretKekProvider.open(options),
    ]);
    await a.rotate('pii');
    for (let round = 0; round < 15; round++) {
      const demoted = await a.primary('pii');
      await a.rotate('pii');
      // b disables the version a just demoted while a rotates again.
      await Promise.all([b.disable(demoted), a.rotate('pii')]);
    }
    const fresh = await PlatformSecretKekProvider.open(options);
    const versions = await fresh.describe('pii');
    expect(versions).toHaveLength(31);
    // v1 was never disabled; every version a rotation demoted and b disabled stays disabled.
    const disabled = versions.filter((v) => v.state === 'disabled').map((v) => v.ref);
    expect(disabled).toHaveLength(15);
    await Promise.all([a.close(), b.close(), fresh.close()]);
  });
});
