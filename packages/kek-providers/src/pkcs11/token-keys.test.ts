import { Buffer } from 'node:buffer';

import { toHex } from '@rekey/crypto-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { openRawSession, type RawSession } from '../../test-support/pkcs11-session.ts';
import {
  pinVariable,
  releaseSharedSoftHsm,
  sharedSoftHsm,
  softHsmAvailable,
} from '../../test-support/softhsm.ts';
import { returnValueName } from './device-errors.ts';
import { openPkcs11KekProvider, type Pkcs11KekProvider } from './pkcs11-kek-provider.ts';
import { versionLabel } from './wrap-format.ts';

const hsm = softHsmAvailable ? sharedSoftHsm() : undefined;
const token = hsm?.createToken('rekey-keys');

/** The CKR_* name a synchronous PKCS#11 call fails with; fails the test when it succeeds. */
function failure(call: () => unknown): string | undefined {
  try {
    call();
  } catch (error) {
    return returnValueName(error);
  }
  throw new Error('expected the PKCS#11 call to fail, but it succeeded');
}

describe.skipIf(hsm === undefined || token === undefined)('KEK versions in the token', () => {
  const open: { provider?: Pkcs11KekProvider; raw?: RawSession } = {};

  async function setUp(kekName: string): Promise<RawSession> {
    if (hsm === undefined || token === undefined) throw new Error('no SoftHSM');
    open.provider = await openPkcs11KekProvider({
      modulePath: hsm.modulePath,
      tokenLabel: token.label,
      pin: { env: pinVariable(token) },
    });
    await open.provider.rotate(kekName);
    open.raw = await openRawSession(hsm, token);
    return open.raw;
  }

  afterEach(async () => {
    open.raw?.close();
    await open.provider?.close();
    open.raw = undefined;
    open.provider = undefined;
  });

  afterAll(() => {
    if (hsm !== undefined && token !== undefined) hsm.deleteToken(token);
    releaseSharedSoftHsm();
  });

  it('generates each version inside the token as a sensitive, never-extractable AES-256 key', async () => {
    const raw = await setUp('keys-attributes');
    const [key] = raw.findByLabel(versionLabel('keys-attributes', 1));
    if (key === undefined) throw new Error('no key object for v1');
    const { api } = raw;

    const attributes = raw.pkcs11.C_GetAttributeValue(raw.session, key, [
      { type: api.CKA_KEY_TYPE },
      { type: api.CKA_VALUE_LEN },
      { type: api.CKA_TOKEN },
      { type: api.CKA_PRIVATE },
      { type: api.CKA_SENSITIVE },
      { type: api.CKA_EXTRACTABLE },
      { type: api.CKA_ALWAYS_SENSITIVE },
      { type: api.CKA_NEVER_EXTRACTABLE },
      { type: api.CKA_LOCAL },
      { type: api.CKA_WRAP },
      { type: api.CKA_DERIVE },
    ]);

    // CK_ULONG and CK_BBOOL values as the token stores them: little-endian here.
    const values = attributes.map((a) => a.value.readUIntLE(0, Math.min(a.value.length, 6)));
    expect(values).toEqual([api.CKK_AES, 32, 1, 1, 1, 0, 1, 1, 1, 0, 0]);
  });

  it('cannot be read out of the token: CKA_VALUE is refused as sensitive', async () => {
    const raw = await setUp('keys-read');
    const [key] = raw.findByLabel(versionLabel('keys-read', 1));
    if (key === undefined) throw new Error('no key object for v1');

    const name = failure(() =>
      raw.pkcs11.C_GetAttributeValue(raw.session, key, [{ type: raw.api.CKA_VALUE }]),
    );

    expect(name).toBe('CKR_ATTRIBUTE_SENSITIVE');
  });

  it('cannot be wrapped out by another key, nor made extractable or non-sensitive', async () => {
    const raw = await setUp('keys-extract');
    const [key] = raw.findByLabel(versionLabel('keys-extract', 1));
    if (key === undefined) throw new Error('no key object for v1');
    const { api, pkcs11, session } = raw;
    // A wrapping key the attacker controls: a session key allowed to wrap.
    const wrappingKey = pkcs11.C_GenerateKey(session, { mechanism: api.CKM_AES_KEY_GEN }, [
      { type: api.CKA_CLASS, value: api.CKO_SECRET_KEY },
      { type: api.CKA_KEY_TYPE, value: api.CKK_AES },
      { type: api.CKA_VALUE_LEN, value: 32 },
      { type: api.CKA_TOKEN, value: false },
      { type: api.CKA_WRAP, value: true },
    ]);
    const out = Buffer.alloc(128);

    for (const mechanism of [api.CKM_AES_KEY_WRAP_PAD, api.CKM_AES_KEY_WRAP]) {
      expect(failure(() => pkcs11.C_WrapKey(session, { mechanism }, wrappingKey, key, out))).toBe(
        'CKR_KEY_UNEXTRACTABLE',
      );
    }
    expect(
      failure(() =>
        pkcs11.C_SetAttributeValue(session, key, [{ type: api.CKA_EXTRACTABLE, value: true }]),
      ),
    ).toBe('CKR_ATTRIBUTE_READ_ONLY');
    expect(
      failure(() =>
        pkcs11.C_SetAttributeValue(session, key, [{ type: api.CKA_SENSITIVE, value: false }]),
      ),
    ).toBe('CKR_ATTRIBUTE_READ_ONLY');
    // A copy would have to stay sensitive and unextractable too.
    expect(
      failure(() =>
        pkcs11.C_CopyObject(session, key, [{ type: api.CKA_EXTRACTABLE, value: true }]),
      ),
    ).toBe('CKR_ATTRIBUTE_READ_ONLY');
    expect(toHex(out)).toBe('00'.repeat(128));
  });

  it('records a disabled version in the key itself: CKA_ENCRYPT and CKA_DECRYPT are off', async () => {
    const raw = await setUp('keys-disable');
    const provider = open.provider as Pkcs11KekProvider;
    await provider.rotate('keys-disable');
    await provider.disable('pkcs11:keys-disable/v1');
    const [v1] = raw.findByLabel(versionLabel('keys-disable', 1));
    const [v2] = raw.findByLabel(versionLabel('keys-disable', 2));
    if (v1 === undefined || v2 === undefined) throw new Error('missing key objects');
    const flags = (key: Buffer) =>
      raw.pkcs11
        .C_GetAttributeValue(raw.session, key, [
          { type: raw.api.CKA_ENCRYPT },
          { type: raw.api.CKA_DECRYPT },
        ])
        .map((a) => a.value[0]);

    expect(flags(v1)).toEqual([0, 0]);
    expect(flags(v2)).toEqual([1, 1]);
  });
});
