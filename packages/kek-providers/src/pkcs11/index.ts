/**
 * @module
 * `@rekey/kek-providers/pkcs11`: KEKs in an HSM over PKCS#11 (pkcs11js). KEK versions are
 * AES-256 keys generated inside the token; DEKs are wrapped there with CKM_AES_GCM. Node-only:
 * pkcs11js is a native addon. See README.md in this folder for pointing it at a real HSM.
 */

export type { CallMode, PinSource, Pkcs11KekProviderOptions } from './options.ts';
export { openPkcs11KekProvider, Pkcs11KekProvider } from './pkcs11-kek-provider.ts';
export { WRAPPED_LENGTH } from './wrap-format.ts';
