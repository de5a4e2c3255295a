/**
 * A raw, logged-in PKCS#11 session on a SoftHSM2 token, for tests that look at the token from
 * outside the provider (read attributes, try to extract keys, drop sessions). Node-only.
 */
import { leaseModule, type Pkcs11Handle } from '../src/pkcs11/pkcs11-module.ts';
import type { TokenSession } from '../src/pkcs11/token-keys.ts';
import type { SoftHsm, SoftHsmToken } from './softhsm.ts';

/** A raw session and the slot of its token; {@link RawSession.close} it. */
export interface RawSession extends TokenSession {
  readonly slot: Pkcs11Handle;
  /** The handles of every secret key whose label is `label`. */
  findByLabel(label: string): Pkcs11Handle[];
  close(): void;
}

/** Opens a read-write session on the token and logs in (sharing the process's login). */
export async function openRawSession(hsm: SoftHsm, token: SoftHsmToken): Promise<RawSession> {
  const lease = await leaseModule(hsm.modulePath);
  const { api, pkcs11 } = lease;
  const slot = pkcs11
    .C_GetSlotList(true)
    .find((s) => pkcs11.C_GetTokenInfo(s).label.trimEnd() === token.label);
  if (slot === undefined) {
    lease.release();
    throw new Error(`no token ${token.label}`);
  }
  const session = pkcs11.C_OpenSession(slot, api.CKF_SERIAL_SESSION | api.CKF_RW_SESSION);
  lease.login(slot, session, token.pin);

  return {
    api,
    pkcs11,
    session,
    slot,
    findByLabel(label) {
      pkcs11.C_FindObjectsInit(session, [
        { type: api.CKA_CLASS, value: api.CKO_SECRET_KEY },
        { type: api.CKA_LABEL, value: label },
      ]);
      try {
        return pkcs11.C_FindObjects(session, 16);
      } finally {
        pkcs11.C_FindObjectsFinal(session);
      }
    },
    close() {
      lease.logout(slot, session);
      try {
        pkcs11.C_CloseSession(session);
      } catch {
        // Already closed by a test that closed every session of the token.
      }
      lease.release();
    },
  };
}
