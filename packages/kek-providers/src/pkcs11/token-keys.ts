/**
 * KEK versions as key objects in the token. Everything the provider knows about a version lives
 * in the token, so it survives process restarts and is shared by every process on the token:
 *
 * - `CKA_LABEL` = `rekey:<kekName>:v<n>`: the version's identity, found by one exact-label search.
 * - `CKA_ID` = created time (u64 big-endian milliseconds since the epoch) || 8 random bytes, the
 *   *key tag*. Every wrapped DEK carries the tag of the object that wrapped it, so when two
 *   processes rotate at the same moment and both create `v<n>`, each DEK still finds its own
 *   key; the object with the lowest `CKA_ID` is the one new wraps use, in every process. No
 *   object is ever destroyed.
 * - `CKA_ENCRYPT` / `CKA_DECRYPT` = true while the version is enabled, false once disabled, so the
 *   token itself refuses a disabled version, whoever asks.
 * - The primary version is the highest one: versions are only ever added, and the highest can
 *   never be disabled (disabling the primary is refused), so no marker has to be kept in sync.
 *
 * NOTE: the created time is not in `CKA_START_DATE`: it holds a day only, and pkcs11js 2.1.7
 * fails to read it back from SoftHSM2 (CKR_GENERAL_ERROR), so tools that show start dates see
 * none.
 */
import { Buffer } from 'node:buffer';

import { randomBytes } from '@rekey/crypto-core';

import type { Pkcs11, Pkcs11Api, Pkcs11Handle } from './pkcs11-module.ts';
import { KEY_TAG_LENGTH, versionLabel } from './wrap-format.ts';

/** A version's key object as found in the token. */
export interface TokenKey {
  readonly handle: Pkcs11Handle;
  /** `CKA_ID`: created time, then the key tag. */
  readonly id: Uint8Array;
  /** The last 8 bytes of `CKA_ID`, recorded in every DEK this object wraps. */
  readonly tag: Uint8Array;
  readonly createdAt: Date;
}

/** Lets the token functions reach pkcs11js and one borrowed session. */
export interface TokenSession {
  readonly api: Pkcs11Api;
  readonly pkcs11: Pkcs11;
  readonly session: Pkcs11Handle;
}

const ID_LENGTH = 16;

/**
 * The key objects of a version, lowest `CKA_ID` first: empty when the token has none, more than
 * one only when two processes created the version at the same moment. The first wraps new DEKs.
 */
export function findVersionKeys(t: TokenSession, kekName: string, version: number): TokenKey[] {
  const keys: TokenKey[] = [];
  for (const handle of findByLabel(t, versionLabel(kekName, version))) {
    const id = readId(t, handle);
    if (id !== undefined) keys.push(tokenKey(handle, id));
  }
  return keys.sort((a, b) => Buffer.compare(a.id, b.id));
}

/**
 * Generates the key object of a version inside the token: AES-256, sensitive, never
 * extractable, usable for encrypt and decrypt only.
 *
 * @returns the new object; {@link findVersionKeys} tells whether another process made the same
 * version first.
 */
export function generateVersionKey(
  t: TokenSession,
  kekName: string,
  version: number,
  createdAt: Date,
): TokenKey {
  const id = new Uint8Array(ID_LENGTH);
  new DataView(id.buffer).setBigUint64(0, BigInt(createdAt.getTime()));
  id.set(randomBytes(KEY_TAG_LENGTH), ID_LENGTH - KEY_TAG_LENGTH);
  const { api } = t;

  const handle = t.pkcs11.C_GenerateKey(t.session, { mechanism: api.CKM_AES_KEY_GEN }, [
    { type: api.CKA_CLASS, value: api.CKO_SECRET_KEY },
    { type: api.CKA_KEY_TYPE, value: api.CKK_AES },
    { type: api.CKA_VALUE_LEN, value: 32 },
    { type: api.CKA_TOKEN, value: true },
    { type: api.CKA_PRIVATE, value: true },
    { type: api.CKA_SENSITIVE, value: true },
    { type: api.CKA_EXTRACTABLE, value: false },
    { type: api.CKA_MODIFIABLE, value: true },
    { type: api.CKA_ENCRYPT, value: true },
    { type: api.CKA_DECRYPT, value: true },
    { type: api.CKA_WRAP, value: false },
    { type: api.CKA_UNWRAP, value: false },
    { type: api.CKA_SIGN, value: false },
    { type: api.CKA_VERIFY, value: false },
    { type: api.CKA_DERIVE, value: false },
    { type: api.CKA_LABEL, value: versionLabel(kekName, version) },
    { type: api.CKA_ID, value: Buffer.from(id) },
  ]);
  return tokenKey(handle, id);
}

/** True while the version's key may encrypt and decrypt. */
export function isKeyEnabled(t: TokenSession, handle: Pkcs11Handle): boolean {
  const [attribute] = t.pkcs11.C_GetAttributeValue(t.session, handle, [
    { type: t.api.CKA_DECRYPT },
  ]);
  return attribute?.value[0] === 1;
}

/**
 * Turns encrypt and decrypt off: the token refuses the key from now on, in every process.
 * The key material stays (rekey never destroys a KEK version).
 */
export function disableKey(t: TokenSession, handle: Pkcs11Handle): void {
  t.pkcs11.C_SetAttributeValue(t.session, handle, [
    { type: t.api.CKA_ENCRYPT, value: false },
    { type: t.api.CKA_DECRYPT, value: false },
  ]);
}

function findByLabel(t: TokenSession, label: string): Pkcs11Handle[] {
  const { api, pkcs11, session } = t;
  pkcs11.C_FindObjectsInit(session, [
    { type: api.CKA_CLASS, value: api.CKO_SECRET_KEY },
    { type: api.CKA_KEY_TYPE, value: api.CKK_AES },
    { type: api.CKA_TOKEN, value: true },
    { type: api.CKA_LABEL, value: label },
  ]);
  try {
    return pkcs11.C_FindObjects(session, 8);
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
}

function readId(t: TokenSession, handle: Pkcs11Handle): Uint8Array | undefined {
  const [attribute] = t.pkcs11.C_GetAttributeValue(t.session, handle, [{ type: t.api.CKA_ID }]);
  // An object with the label but not our CKA_ID layout was not made by rekey: ignore it.
  if (attribute === undefined || attribute.value.length !== ID_LENGTH) return undefined;
  return new Uint8Array(attribute.value);
}

function tokenKey(handle: Pkcs11Handle, id: Uint8Array): TokenKey {
  const millis = new DataView(id.buffer, id.byteOffset, 8).getBigUint64(0);
  return {
    handle,
    id,
    tag: id.subarray(ID_LENGTH - KEY_TAG_LENGTH),
    createdAt: new Date(Number(millis)),
  };
}
