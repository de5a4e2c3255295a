import {
  DescribeKeyCommand,
  DisableKeyCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { newDekId, randomBytes, toHex } from '@rekey/crypto-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type KmsEmulator, startKmsEmulator } from '../../../../test/kms-emulator/index.ts';
import { AwsKmsKekProvider, type AwsKmsKekProviderOptions } from './aws-kms-kek-provider.ts';

let kms: KmsEmulator;
let raw: KMSClient;
const opened: AwsKmsKekProvider[] = [];
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

beforeAll(async () => {
  kms = await startKmsEmulator();
  raw = new KMSClient({ region: 'us-east-1', endpoint: kms.endpoint, credentials, maxAttempts: 1 });
});

afterEach(async () => {
  kms.setRateLimit(undefined);
  kms.clearInjections();
  for (const p of opened.splice(0)) await p.close();
});

afterAll(async () => {
  raw.destroy();
  await kms.close();
});

function provider(options: Partial<AwsKmsKekProviderOptions> = {}): AwsKmsKekProvider {
  const p = new AwsKmsKekProvider({
    region: 'us-east-1',
    endpoint: kms.endpoint,
    credentials,
    ...options,
  });
  opened.push(p);
  return p;
}

async function newKek(p: AwsKmsKekProvider) {
  const kekName = `kms-${toHex(randomBytes(5))}`;
  await p.rotate(kekName);
  return { dekId: newDekId(), scope: 'tenant-1', kekName };
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; name: string; retryAfterMs?: number; retryable?: boolean };
  }
  throw new Error('expected a failure');
}

function arnOf(ref: string): string {
  return ref.slice('aws-kms:'.length);
}

/** Every key the emulator holds for a KEK name (by its `rekey:kek-name` tag), state and tags. */
async function keysOf(kekName: string) {
  const keys: { arn: string; state: string | undefined; tags: Record<string, string> }[] = [];
  let marker: string | undefined;
  do {
    const page = await raw.send(new ListKeysCommand({ Limit: 100, Marker: marker }));
    for (const { KeyArn } of page.Keys ?? []) {
      const listed = await raw.send(new ListResourceTagsCommand({ KeyId: KeyArn }));
      const tags = Object.fromEntries((listed.Tags ?? []).map((t) => [t.TagKey, t.TagValue]));
      if (tags['rekey:kek-name'] !== kekName) continue;
      const described = await raw.send(new DescribeKeyCommand({ KeyId: KeyArn }));
      keys.push({ arn: KeyArn as string, state: described.KeyMetadata?.KeyState, tags });
    }
    marker = page.Truncated === true ? page.NextMarker : undefined;
  } while (marker !== undefined);
  return keys;
}

/** Two instances, as two processes would be, rotating one KEK name at the same instant. */
async function rotateConcurrently(kekName: string) {
  // Both list the aliases before either creates its key, so both pick the same version number.
  kms.holdRequests('CreateKey', 2);
  const results = await Promise.allSettled([
    provider().rotate(kekName),
    provider().rotate(kekName),
  ]);
  const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  return { won, lost };
}

describe('AwsKmsKekProvider against the KMS emulator', () => {
  it('records the key ARN in the ref and keeps it valid after the alias moves', async () => {
    const p = provider();
    const binding = await newKek(p);
    const dek = randomBytes(32);
    const wrapped = await p.wrap(dek, binding);

    await p.rotate(binding.kekName);
    const alias = await raw.send(
      new DescribeKeyCommand({ KeyId: `alias/rekey/${binding.kekName}` }),
    );

    expect(wrapped.kekRef).toMatch(
      /^aws-kms:arn:aws:kms:us-east-1:111122223333:key\/[0-9a-f-]{36}$/,
    );
    expect(alias.KeyMetadata?.Arn).not.toBe(arnOf(wrapped.kekRef));
    expect(toHex(await p.unwrap(wrapped, binding))).toBe(toHex(dek));
  });

  it('binds the DEK id, scope and KEK name in KMS, which refuses a moved DEK', async () => {
    const p = provider();
    const binding = await newKek(p);
    const wrapped = await p.wrap(randomBytes(32), binding);
    const before = kms.counts().errorsByType.InvalidCiphertextException ?? 0;

    const error = await failure(p.unwrap(wrapped, { ...binding, dekId: newDekId() }));

    expect(error.code).toBe('DECRYPTION_FAILED');
    // The refusal came from KMS (the encryption context), not from a check in the provider.
    expect(kms.counts().errorsByType.InvalidCiphertextException).toBe(before + 1);
  });

  it('names the key in every Decrypt: a DEK relabelled with another version does not unwrap', async () => {
    const p = provider();
    const binding = await newKek(p);
    const wrapped = await p.wrap(randomBytes(32), binding);
    const v2 = (await p.rotate(binding.kekName)).ref;
    const before = kms.counts().errorsByType.IncorrectKeyException ?? 0;

    const error = await failure(p.unwrap({ ...wrapped, kekRef: v2 }, binding));

    expect(error.code).toBe('DECRYPTION_FAILED');
    // KMS refused because the request named v2's key: without KeyId it would have decrypted.
    expect(kms.counts().errorsByType.IncorrectKeyException).toBe(before + 1);
  });

  it('keeps the version history in aliases and tags that a fresh instance reads back', async () => {
    const p = provider();
    const binding = await newKek(p);
    const v2 = await p.rotate(binding.kekName);
    const v3 = await p.rotate(binding.kekName);

    const fresh = provider();
    const versions = await fresh.describe(binding.kekName);
    const aliases = await raw.send(new ListAliasesCommand({ Limit: 100 }));
    const tags = await raw.send(new ListResourceTagsCommand({ KeyId: arnOf(v3.ref) }));

    expect(versions.map((v) => v.state)).toEqual(['active', 'active', 'primary']);
    expect(versions.map((v) => v.ref).slice(1)).toEqual([v2.ref, v3.ref]);
    const names = (aliases.Aliases ?? []).map((a) => a.AliasName);
    for (const n of [1, 2, 3]) expect(names).toContain(`alias/rekey/${binding.kekName}/v${n}`);
    expect(tags.Tags).toContainEqual({ TagKey: 'rekey:kek-name', TagValue: binding.kekName });
    expect(tags.Tags).toContainEqual({ TagKey: 'rekey:kek-version', TagValue: '3' });
  });

  it('serialises concurrent rotations of one provider into consecutive versions', async () => {
    const p = provider();
    const kekName = `kms-${toHex(randomBytes(5))}`;

    const rotated = await Promise.all([1, 2, 3].map(() => p.rotate(kekName)));
    const versions = await provider().describe(kekName);

    expect(versions.map((v) => v.ref)).toEqual(rotated.map((v) => v.ref));
    expect(versions.map((v) => v.state)).toEqual(['active', 'active', 'primary']);
    expect(await p.primary(kekName)).toBe(rotated[2]?.ref);
  });

  it.each([0, 2])(
    'lets one of two processes win a rotation race after %i versions; the loser disables its key',
    async (before) => {
      const kekName = `kms-${toHex(randomBytes(5))}`;
      for (let i = 0; i < before; i++) await provider().rotate(kekName);

      const { won, lost } = await rotateConcurrently(kekName);

      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatchObject({
        name: 'KekUnavailableError',
        code: 'KEK_UNAVAILABLE',
        retryable: true,
      });
      expect(lost[0]?.message).toContain('concurrent rotation');
      const versions = await provider().describe(kekName);
      expect(versions.map((v) => v.state)).toEqual([...Array(before).fill('active'), 'primary']);
      expect(versions.at(-1)?.ref).toBe(won[0]?.ref);
      expect(await provider().primary(kekName)).toBe(won[0]?.ref);

      const referenced = new Set(versions.map((v) => arnOf(v.ref)));
      const keys = await keysOf(kekName);
      const leftovers = keys.filter((k) => !referenced.has(k.arn));
      expect(keys).toHaveLength(before + 2);
      expect(leftovers).toHaveLength(1);
      for (const key of leftovers) {
        expect(key.state).toBe('Disabled');
        expect(key.tags['rekey:abandoned']).toBeDefined();
        expect(lost[0]?.message).toContain(key.arn);
      }
    },
  );

  it('still reports the lost rotation, naming the key, when the cleanup is refused', async () => {
    const kekName = `kms-${toHex(randomBytes(5))}`;
    await provider().rotate(kekName);
    kms.injectFault('DisableKey', { refuse: 'AccessDeniedException' });

    const { won, lost } = await rotateConcurrently(kekName);

    const versions = await provider().describe(kekName);
    const referenced = new Set(versions.map((v) => arnOf(v.ref)));
    const leftover = (await keysOf(kekName)).find((k) => !referenced.has(k.arn));
    expect(won).toHaveLength(1);
    expect(lost[0]).toMatchObject({ code: 'KEK_UNAVAILABLE', retryable: true });
    expect(lost[0]?.message).toContain('concurrent rotation');
    expect(leftover?.state).toBe('Enabled');
    expect(lost[0]?.message).toContain(leftover?.arn);
    expect(lost[0]?.message).toContain('by hand');
  });

  it('keeps a version whose alias its own retry created after a lost answer', async () => {
    const kekName = `kms-${toHex(randomBytes(5))}`;
    const client = new KMSClient({
      region: 'us-east-1',
      endpoint: kms.endpoint,
      credentials,
      maxAttempts: 3,
    });
    try {
      kms.injectFault('CreateAlias', { loseAnswer: true });
      const conflicts = kms.counts().errorsByType.AlreadyExistsException ?? 0;

      const rotated = await provider({ client }).rotate(kekName);

      // The SDK's retry met the alias its first, unanswered attempt had created.
      expect(kms.counts().errorsByType.AlreadyExistsException).toBe(conflicts + 1);
      const versions = await provider().describe(kekName);
      expect(versions.map((v) => [v.ref, v.state])).toEqual([[rotated.ref, 'primary']]);
      const keys = await keysOf(kekName);
      expect(keys).toHaveLength(1);
      expect(keys[0]?.state).toBe('Enabled');
      expect(keys[0]?.tags['rekey:abandoned']).toBeUndefined();
    } finally {
      client.destroy();
    }
  });

  it.each([1, 2])(
    'rotates again while ListAliases still lags behind its last rotation (after %i versions)',
    async (before) => {
      const p = provider();
      const kekName = `kms-${toHex(randomBytes(5))}`;
      for (let i = 0; i < before; i++) await p.rotate(kekName);
      // The listing has not caught up: it misses the last version alias and, on a first
      // rotation, the primary alias too.
      const lagging = [`alias/rekey/${kekName}/v${before}`];
      if (before === 1) lagging.push(`alias/rekey/${kekName}`);
      kms.injectFault('ListAliases', { omitAliases: lagging });

      const next = await p.rotate(kekName);

      const versions = await provider().describe(kekName);
      expect(versions.map((v) => v.state)).toEqual([...Array(before).fill('active'), 'primary']);
      expect(versions.at(-1)?.ref).toBe(next.ref);
      expect((await keysOf(kekName)).filter((k) => k.tags['rekey:abandoned'])).toEqual([]);
    },
  );

  it('disables with DisableKey and never schedules deletion', async () => {
    const p = provider();
    const binding = await newKek(p);
    const wrapped = await p.wrap(randomBytes(32), binding);
    await p.rotate(binding.kekName);

    await p.disable(wrapped.kekRef);
    const described = await raw.send(new DescribeKeyCommand({ KeyId: arnOf(wrapped.kekRef) }));
    const decrypts = kms.counts().byOperation.Decrypt ?? 0;

    expect(described.KeyMetadata?.KeyState).toBe('Disabled');
    expect(described.KeyMetadata?.DeletionDate).toBeUndefined();
    expect((await failure(p.unwrap(wrapped, binding))).code).toBe('KEK_REF_DISABLED');
    expect(kms.counts().byOperation.Decrypt ?? 0).toBe(decrypts);
  });

  it('maps a key disabled behind its back to KekUnavailableError, then reports it disabled', async () => {
    const p = provider();
    const binding = await newKek(p);
    const dek = randomBytes(32);
    const wrapped = await p.wrap(dek, binding);
    await p.rotate(binding.kekName);
    expect(toHex(await p.unwrap(wrapped, binding))).toBe(toHex(dek));

    await raw.send(new DisableKeyCommand({ KeyId: arnOf(wrapped.kekRef) }));

    const first = await failure(p.unwrap(wrapped, binding));
    expect(first.code).toBe('KEK_UNAVAILABLE');
    expect(first.retryable).toBe(true);
    expect((await failure(p.unwrap(wrapped, binding))).code).toBe('KEK_REF_DISABLED');
  });

  it('rewraps with ReEncrypt alone: the plaintext DEK never leaves KMS', async () => {
    const p = provider();
    const binding = await newKek(p);
    const dek = randomBytes(32);
    const wrapped = await p.wrap(dek, binding);
    const target = (await p.rotate(binding.kekName)).ref;
    await p.unwrap(wrapped, binding);
    await p.wrap(dek, binding, target);
    kms.resetCounts();

    const moved = await p.rewrap(wrapped, binding, target);

    expect(kms.counts().byOperation).toEqual({ ReEncrypt: 1 });
    expect(moved.kekRef).toBe(target);
    expect(toHex(await p.unwrap(moved, binding))).toBe(toHex(dek));
  });

  it('completes a burst of wraps without a failure when KMS throttles past R requests/s', async () => {
    const p = provider();
    const binding = await newKek(p);
    const burst = 120;
    kms.setRateLimit({ requestsPerSecond: 60, burst: 10 });
    kms.resetCounts();

    const results = await Promise.allSettled(
      Array.from({ length: burst }, () => p.wrap(randomBytes(32), binding)),
    );

    const counts = kms.counts();
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(counts.throttled).toBeGreaterThan(0);
    expect((counts.byOperation.Encrypt ?? 0) - counts.throttled).toBe(burst);
    expect(counts.errorsByType).toEqual({});
  }, 30_000);

  it('fails with a retryable RateLimitError and a suggested delay once retries run out', async () => {
    const p = provider({ retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 40 } });
    const binding = await newKek(p);
    kms.setRateLimit({ requestsPerSecond: 0.001, burst: 1 });

    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => p.wrap(randomBytes(32), binding)),
    );

    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(errors).toHaveLength(3);
    for (const error of errors) {
      expect(error.code).toBe('KEK_RATE_LIMITED');
      expect(error.name).toBe('RateLimitError');
      expect(error.retryable).toBe(true);
      expect(error.retryAfterMs).toBe(2);
    }
  });

  it('reports an unreachable KMS as a retryable KekUnavailableError', async () => {
    const down = await startKmsEmulator();
    const endpoint = down.endpoint;
    await down.close();
    const p = provider({ endpoint });

    const error = await failure(p.primary('pii'));

    expect(error.code).toBe('KEK_UNAVAILABLE');
    expect(error.retryable).toBe(true);
  });

  it('gives up on a KMS that does not answer within the timeout', async () => {
    const slow = await startKmsEmulator({ latencyMs: 2_000 });
    try {
      const p = provider({ endpoint: slow.endpoint, timeoutMs: 200 });

      const error = await failure(p.primary('pii'));

      expect(error.code).toBe('KEK_UNAVAILABLE');
    } finally {
      await slow.close();
    }
  });

  it('refuses a malformed alias prefix', () => {
    expect(() => provider({ aliasPrefix: 'rekey/' })).toThrow('aliasPrefix');
    expect(() => provider({ aliasPrefix: 'alias/aws/' })).toThrow('aliasPrefix');
  });
});
