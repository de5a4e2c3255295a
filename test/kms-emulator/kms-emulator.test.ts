import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type KmsEmulator, startKmsEmulator } from './kms-emulator.ts';

let kms: KmsEmulator;

beforeAll(async () => {
  kms = await startKmsEmulator();
});

afterAll(async () => {
  await kms.close();
});

/** One signed request to the shared emulator, or to the one at `endpoint`. */
async function call(
  operation: string,
  body: unknown,
  endpoint = kms.endpoint,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `TrentService.${operation}`,
      authorization: SIGNED,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function newKey(): Promise<string> {
  const { json } = await call('CreateKey', { Description: 'test' });
  return (json.KeyMetadata as { Arn: string }).Arn;
}

/** The emulator checks that a SigV4 signature is present, not that it is valid. */
const SIGNED = 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request, Signature=0';

const plaintext = Buffer.from('thirty-two bytes of a data key!!').toString('base64');

describe('KMS emulator protocol', () => {
  it('encrypts and decrypts under the same encryption context', async () => {
    const arn = await newKey();
    const context = { a: '1', b: '2' };
    const sealed = await call('Encrypt', {
      KeyId: arn,
      Plaintext: plaintext,
      EncryptionContext: context,
    });

    const opened = await call('Decrypt', {
      KeyId: arn,
      CiphertextBlob: sealed.json.CiphertextBlob,
      EncryptionContext: { b: '2', a: '1' },
    });

    expect(sealed.json.KeyId).toBe(arn);
    expect(opened.status).toBe(200);
    expect(opened.json.Plaintext).toBe(plaintext);
    expect(opened.json.KeyId).toBe(arn);
  });

  it('binds the context unambiguously: shifted separators do not decrypt', async () => {
    const arn = await newKey();
    const sealed = await call('Encrypt', {
      KeyId: arn,
      Plaintext: plaintext,
      EncryptionContext: { ab: 'c' },
    });

    for (const context of [{ a: 'bc' }, { ab: 'c', x: '' }, {}]) {
      const opened = await call('Decrypt', {
        CiphertextBlob: sealed.json.CiphertextBlob,
        EncryptionContext: context,
      });
      expect(opened.status).toBe(400);
      expect(opened.json.__type).toBe('InvalidCiphertextException');
    }
  });

  it('answers IncorrectKeyException for another key and DisabledException for a disabled one', async () => {
    const arn = await newKey();
    const other = await newKey();
    const sealed = await call('Encrypt', { KeyId: arn, Plaintext: plaintext });

    const wrongKey = await call('Decrypt', {
      KeyId: other,
      CiphertextBlob: sealed.json.CiphertextBlob,
    });
    await call('DisableKey', { KeyId: arn });
    const disabled = await call('Decrypt', {
      KeyId: arn,
      CiphertextBlob: sealed.json.CiphertextBlob,
    });

    expect(wrongKey.json.__type).toBe('IncorrectKeyException');
    expect(disabled.json.__type).toBe('DisabledException');
    expect((await call('DescribeKey', { KeyId: arn })).json.KeyMetadata).toMatchObject({
      KeyState: 'Disabled',
      Enabled: false,
    });
  });

  it('generates data keys whose blob decrypts to the returned plaintext', async () => {
    const arn = await newKey();
    const generated = await call('GenerateDataKey', {
      KeyId: arn,
      KeySpec: 'AES_256',
      EncryptionContext: { k: 'v' },
    });

    const opened = await call('Decrypt', {
      CiphertextBlob: generated.json.CiphertextBlob,
      EncryptionContext: { k: 'v' },
    });

    expect(Buffer.from(String(generated.json.Plaintext), 'base64')).toHaveLength(32);
    expect(opened.json.Plaintext).toBe(generated.json.Plaintext);
  });

  it('re-encrypts under another key and context, and enables a disabled key again', async () => {
    const a = await newKey();
    const b = await newKey();
    const sealed = await call('Encrypt', {
      KeyId: a,
      Plaintext: plaintext,
      EncryptionContext: { x: '1' },
    });
    await call('DisableKey', { KeyId: b });
    const refused = await call('ReEncrypt', {
      CiphertextBlob: sealed.json.CiphertextBlob,
      SourceEncryptionContext: { x: '1' },
      DestinationKeyId: b,
    });
    await call('EnableKey', { KeyId: b });

    const moved = await call('ReEncrypt', {
      CiphertextBlob: sealed.json.CiphertextBlob,
      SourceKeyId: a,
      SourceEncryptionContext: { x: '1' },
      DestinationKeyId: b,
      DestinationEncryptionContext: { y: '2' },
    });
    const opened = await call('Decrypt', {
      KeyId: b,
      CiphertextBlob: moved.json.CiphertextBlob,
      EncryptionContext: { y: '2' },
    });

    expect(refused.json.__type).toBe('DisabledException');
    expect(moved.json).toMatchObject({ SourceKeyId: a, KeyId: b });
    expect(opened.json.Plaintext).toBe(plaintext);
  });

  it('refuses every single-byte change of a ciphertext blob', async () => {
    const arn = await newKey();
    const sealed = await call('Encrypt', { KeyId: arn, Plaintext: plaintext });
    const blob = Buffer.from(String(sealed.json.CiphertextBlob), 'base64');

    const types = new Set<unknown>();
    for (let i = 0; i < blob.length; i++) {
      const copy = Buffer.from(blob);
      copy[i] = (copy[i] as number) ^ 0x01;
      const opened = await call('Decrypt', { CiphertextBlob: copy.toString('base64') });
      types.add(opened.json.__type);
    }

    expect([...types]).toEqual(['InvalidCiphertextException']);
  });

  it('resolves aliases and moves them', async () => {
    const a = await newKey();
    const b = await newKey();
    const name = `alias/emulator-${Date.now()}`;
    await call('CreateAlias', { AliasName: name, TargetKeyId: a });

    const again = await call('CreateAlias', { AliasName: name, TargetKeyId: b });
    await call('UpdateAlias', { AliasName: name, TargetKeyId: b });
    const described = await call('DescribeKey', { KeyId: name });

    expect(again.json.__type).toBe('AlreadyExistsException');
    expect((described.json.KeyMetadata as { Arn: string }).Arn).toBe(b);
  });

  it('answers unknown keys, operations and bodies with typed errors', async () => {
    const missing = await call('DescribeKey', { KeyId: 'alias/none' });
    const unknown = await call('ScheduleKeyDeletion', { KeyId: 'x' });

    expect(missing.json.__type).toBe('NotFoundException');
    expect(unknown.json.__type).toBe('UnknownOperationException');
  });

  it('refuses requests that carry no SigV4 signature', async () => {
    const response = await fetch(kms.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'TrentService.ListKeys',
      },
      body: '{}',
    });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { __type: string }).__type).toBe(
      'MissingAuthenticationTokenException',
    );
  });

  it('holds requests of an operation until all have arrived, then answers in order', async () => {
    const held = await startKmsEmulator();
    const at = (operation: string, body: unknown) =>
      call(operation, body, held.endpoint).then((r) => r.json);
    try {
      held.holdRequests('CreateKey', 2);
      const first = at('CreateKey', { Description: 'first' });
      while (held.counts().byOperation.CreateKey !== 1) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const meanwhile = await at('ListKeys', {});
      const second = at('CreateKey', { Description: 'second' });
      const created = await Promise.all([first, second]);
      const after = await at('ListKeys', {});

      expect(meanwhile.Keys).toEqual([]);
      const ids = created.map((c) => (c.KeyMetadata as { KeyId: string }).KeyId);
      expect((after.Keys as { KeyId: string }[]).map((k) => k.KeyId)).toEqual(ids);
    } finally {
      await held.close();
    }
  });

  it('injects a refusal that changes nothing and a lost answer after the change', async () => {
    const arn = await newKey();
    const state = async () =>
      ((await call('DescribeKey', { KeyId: arn })).json.KeyMetadata as { KeyState: string })
        .KeyState;

    kms.injectFault('DisableKey', { refuse: 'AccessDeniedException' });
    const refused = await call('DisableKey', { KeyId: arn });
    const afterRefusal = await state();
    kms.injectFault('DisableKey', { loseAnswer: true });
    const lost = await call('DisableKey', { KeyId: arn }).then(
      () => 'answered',
      () => 'no answer',
    );

    expect(refused.json.__type).toBe('AccessDeniedException');
    expect(afterRefusal).toBe('Enabled');
    expect(lost).toBe('no answer');
    expect(await state()).toBe('Disabled');
  });

  it('throttles past its rate limit and counts requests per operation', async () => {
    const limited = await startKmsEmulator({ rateLimit: { requestsPerSecond: 0.01, burst: 3 } });
    try {
      const statuses: string[] = [];
      for (let i = 0; i < 6; i++) {
        const response = await fetch(limited.endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': 'TrentService.ListKeys',
            authorization: SIGNED,
          },
          body: '{}',
        });
        statuses.push(String(((await response.json()) as { __type?: string }).__type ?? 'ok'));
      }

      // One token per 100 s: the burst of 3 passes, the rest is throttled however slow the run.
      expect(statuses).toEqual(['ok', 'ok', 'ok', ...Array(3).fill('ThrottlingException')]);
      expect(limited.counts().byOperation.ListKeys).toBe(6);
      expect(limited.counts().throttled).toBe(3);
    } finally {
      await limited.close();
    }
  });
});
