/**
 * The `KekProvider` port: where key-encryption keys live and how DEKs are wrapped with them.
 *
 * A provider is a plugin (local keyring, platform secret, AWS KMS, PKCS#11 HSM, ...). It wraps
 * either remotely (the DEK is sent to the KEK's home) or locally (the KEK is fetched and used in
 * process); the port hides which. Providers never log and never put key bytes in errors.
 */

/**
 * The exact KEK version that wrapped a DEK, as `<provider>:<detail>`, for example
 * `local:pii/v3` or `aws-kms:arn:aws:kms:eu-west-1:111122223333:key/...`. Opaque to everything
 * but the provider that issued it; stored next to every wrapped DEK so unwrapping never guesses.
 */
export type KekRef = string;

/** The logical name of a KEK, for example `pii`. Its versions have distinct refs. */
export type KekName = string;

/** What a wrapped DEK is cryptographically bound to. Unwrapping with any other binding fails. */
export interface DekBinding {
  /** The DEK's id, canonical lowercase UUID form. */
  readonly dekId: string;
  /** The caller's grouping of DEKs (tenant, table, ...). */
  readonly scope: string;
  /** The logical KEK name the DEK belongs to. */
  readonly kekName: KekName;
}

/** A DEK as the provider returned it: opaque bytes plus the ref of the version that wrapped it. */
export interface WrappedDek {
  readonly kekRef: KekRef;
  readonly bytes: Uint8Array;
}

/** The life-cycle state of one KEK version. */
export type KekVersionState =
  /** Wraps new DEKs and unwraps. Exactly one version of a KEK name is primary. */
  | 'primary'
  /** Unwraps only: a former primary whose DEKs may still await rewrapping. */
  | 'active'
  /** Refuses to unwrap. The material is kept, never destroyed by rekey. */
  | 'disabled';

/** One version of a KEK, as `describe` reports it. Never carries key material. */
export interface KekVersion {
  readonly ref: KekRef;
  readonly kekName: KekName;
  readonly state: KekVersionState;
  readonly createdAt: Date;
}

/**
 * A home for KEKs. Every method may throw `KekUnavailableError` (retryable) when the home cannot
 * be reached, and `RateLimitError` (retryable, with a suggested delay) when it throttles.
 */
export interface KekProvider {
  /** The prefix of every ref this provider issues, for example `local` or `aws-kms`. */
  readonly id: string;

  /**
   * Wraps a 32-byte DEK with the primary version of `binding.kekName`, or with `target` when
   * given (a rotation wraps with the version it prepared, even if the primary moved meanwhile).
   *
   * @throws {KekRefError} when `target` is unknown or disabled, or the KEK name has no versions.
   * @throws {InputError} when the DEK is not 32 bytes.
   */
  wrap(dek: Uint8Array, binding: DekBinding, target?: KekRef): Promise<WrappedDek>;

  /**
   * Unwraps a DEK wrapped by this provider with the same binding.
   *
   * @throws {DecryptionError} when the bytes, the binding or the key do not match.
   * @throws {KekRefError} when the ref is unknown or its version is disabled.
   */
  unwrap(wrapped: WrappedDek, binding: DekBinding): Promise<Uint8Array>;

  /**
   * Optional server-side rewrap: moves a wrapped DEK to `target` without the plaintext DEK ever
   * leaving the KEK's home (AWS KMS `ReEncrypt`). Providers that wrap in process leave it out and
   * callers fall back to unwrap + wrap.
   */
  rewrap?(wrapped: WrappedDek, binding: DekBinding, target: KekRef): Promise<WrappedDek>;

  /**
   * The ref of the primary version of a KEK name.
   *
   * @throws {KekRefError} (`KEK_REF_UNKNOWN`) when the KEK name has no versions.
   */
  primary(kekName: KekName): Promise<KekRef>;

  /** Creates a new version of a KEK name (the first one if none exists) and makes it primary. */
  rotate(kekName: KekName): Promise<KekVersion>;

  /** Every version of a KEK name, oldest first. Empty when the name is unknown. */
  describe(kekName: KekName): Promise<readonly KekVersion[]>;

  /**
   * Disables a non-primary version: its material is kept, but it no longer unwraps.
   *
   * @throws {KekRefError} when the ref is unknown.
   * @throws {ConfigError} when the ref is the primary version.
   */
  disable(ref: KekRef): Promise<void>;

  /** Releases connections, sessions and cached key material. */
  close?(): Promise<void>;
}
