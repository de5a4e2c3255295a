/**
 * @module
 * @rekey/crypto-core: the envelope format, AES-256-GCM with context binding and key commitment,
 * the DEK cache, and the `KekProvider` / `DekStore` ports that plugins implement.
 */

export { concatBytes, fromBase64Url, fromUtf8, toBase64Url, toHex, utf8 } from './bytes.ts';
export { type EncryptionContext, encodeContext } from './context.ts';
export {
  createEnvelope,
  type DecryptOptions,
  type EncryptOptions,
  type Envelope,
  type EnvelopeConfig,
} from './create-envelope.ts';
export {
  DataKey,
  type DataKeyOptions,
  DEK_LENGTH,
  generateDek,
  MESSAGES_PER_SUBKEY,
} from './data-key.ts';
export { encodeDekBinding } from './dek-binding.ts';
export { DekCache, type DekCacheOptions } from './dek-cache.ts';
export { assertDekId, dekIdFromBytes, dekIdToBytes, isDekId, newDekId } from './dek-id.ts';
export type {
  DekCount,
  DekRecord,
  DekScan,
  DekStore,
  DekSwap,
  DekSwapResult,
  NewDekRecord,
} from './dek-store.ts';
export { decrypt, type EnvelopeOptions, encrypt } from './envelope.ts';
export {
  type EnvelopeHeader,
  fromText,
  HEADER_LENGTH,
  MIN_ENVELOPE_LENGTH,
  parseEnvelope,
  toText,
} from './envelope-format.ts';
export {
  ConfigError,
  DecryptionError,
  DekNotFoundError,
  DuplicateDekError,
  FormatError,
  hasErrorCode,
  InputError,
  KekRefError,
  KekUnavailableError,
  RateLimitError,
  RekeyError,
  type RekeyErrorCode,
  StoreUnavailableError,
} from './errors.ts';
export type {
  DekBinding,
  KekName,
  KekProvider,
  KekRef,
  KekVersion,
  KekVersionState,
  WrappedDek,
} from './kek-provider.ts';
export {
  type AesGcmKey,
  type CryptoBackend,
  constantTimeEqual,
  cryptoBackend,
  GCM_NONCE_LENGTH,
  randomBytes,
  randomGcmNonce,
} from './primitives.ts';
