/**
 * The AWS KMS provider: DEKs are wrapped remotely (`Encrypt`, `Decrypt`, `ReEncrypt`), so KEK
 * material never leaves KMS. Each KEK name is an alias; each version is its own KMS key.
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  KMSClient,
  type KMSClientConfig,
  ReEncryptCommand,
  TagResourceCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import {
  ConfigError,
  DecryptionError,
  type DekBinding,
  type KekName,
  type KekProvider,
  type KekRef,
  KekRefError,
  KekUnavailableError,
  type KekVersion,
  type RekeyError,
  type WrappedDek,
} from '@rekey/crypto-core';

import { checkBinding, checkDek, checkKekName, DEK_LENGTH } from '../_checks.ts';
import {
  checkAliasPrefix,
  DEFAULT_ALIAS_PREFIX,
  type KekVersionAlias,
  keyArnOf,
  primaryAliasName,
  versionAliasName,
  versionsOf,
} from './kek-aliases.ts';
import { KmsDirectory } from './kms-directory.ts';
import { kmsErrorNameOf } from './kms-errors.ts';
import { arnOf, encryptionContext, refOf } from './kms-refs.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';

/** Options of {@link AwsKmsKekProvider}. */
export interface AwsKmsKekProviderOptions {
  /** A configured client. When given, `region`, `endpoint` and `credentials` are ignored. */
  readonly client?: KMSClient;
  readonly region?: string;
  /** For example `http://localhost:4566` (LocalStack). */
  readonly endpoint?: string;
  readonly credentials?: KMSClientConfig['credentials'];
  /** Prefix of the aliases that name KEKs and record their versions. Default `alias/rekey/`. */
  readonly aliasPrefix?: string;
  /** Retries of throttled calls. Default: 10 attempts, backoff from 25 ms doubling to 2 s. */
  readonly retry?: Partial<RetryPolicy>;
  /** How long key states and version lists are cached, in milliseconds. Default 60,000. */
  readonly cacheTtlMs?: number;
  /**
   * Milliseconds before a request without an answer fails (`KekUnavailableError`), for a client
   * the provider builds. Default 10,000; connecting has half of it.
   */
  readonly timeoutMs?: number;
}

const MAX_CIPHERTEXT = 6144;

/** The tag that marks a key a lost concurrent rotation created and then disabled. */
const ABANDONED_TAG = 'rekey:abandoned';

/**
 * A `KekProvider` over AWS KMS. Refs are `aws-kms:<key ARN>`: the exact key that wrapped a DEK,
 * so unwrapping never depends on where an alias points today.
 *
 * - `wrap` = `Encrypt` with encryption context `rekey:dek-id`, `rekey:kek-name` and
 *   `rekey:scope` (left out when the scope is empty); `unwrap` = `Decrypt` that always names
 *   the key and checks the key KMS reports; `rewrap` = `ReEncrypt`.
 * - KEK name `pii` is the alias `alias/rekey/pii` (its target is the primary version); version
 *   `n` is also recorded as `alias/rekey/pii/v<n>`, which `describe` lists.
 * - `rotate` creates a key and moves the alias; `disable` is `DisableKey`. Nothing here ever
 *   schedules key deletion.
 * - Throttled calls are retried with exponential backoff and jitter; past the last attempt the
 *   call fails with `RateLimitError`.
 *
 * @example
 * ```ts
 * const provider = new AwsKmsKekProvider({ region: 'eu-west-1' });
 * await provider.rotate('pii'); // creates the first key and alias/rekey/pii
 * const wrapped = await provider.wrap(dek, { dekId, scope: 'tenant-1', kekName: 'pii' });
 * ```
 */
export class AwsKmsKekProvider implements KekProvider {
  readonly id: string = 'aws-kms';
  readonly #client: KMSClient;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #kms: KmsDirectory;
  /**
   * The last version this instance created per KEK name. `ListAliases` is eventually consistent:
   * right after a rotation it may not list the new version alias yet, and the next rotation
   * must neither reuse that version number nor try to create the primary alias again.
   */
  readonly #created = new Map<KekName, KekVersionAlias>();
  #changes: Promise<unknown> = Promise.resolve();

  /** @throws {ConfigError} when the alias prefix is malformed. */
  constructor(options: AwsKmsKekProviderOptions = {}) {
    this.#prefix = options.aliasPrefix ?? DEFAULT_ALIAS_PREFIX;
    checkAliasPrefix(this.#prefix);
    this.#ownsClient = options.client === undefined;
    // maxAttempts 1: this provider retries throttling itself, with counts it controls.
    this.#client =
      options.client ??
      new KMSClient({
        region: options.region,
        endpoint: options.endpoint,
        credentials: options.credentials,
        maxAttempts: 1,
        requestHandler: {
          requestTimeout: options.timeoutMs ?? 10_000,
          connectionTimeout: (options.timeoutMs ?? 10_000) / 2,
          // Without it the SDK only warns and keeps waiting.
          throwOnRequestTimeout: true,
        },
      });
    const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#kms = new KmsDirectory(this.#client, this.#prefix, policy, options.cacheTtlMs ?? 60_000);
  }

  /**
   * Wraps a DEK with `Encrypt` under the KEK name's alias, or under `target`.
   *
   * @throws {InputError} when the DEK is not 32 bytes or the binding is malformed.
   * @throws {KekRefError} when `target` is unknown, disabled or of another KEK name, or the
   * KEK name has no alias.
   * @throws {RateLimitError} when KMS still throttles after the retries.
   * @throws {KekUnavailableError} when KMS cannot be reached or refuses the key's state.
   */
  async wrap(dek: Uint8Array, binding: DekBinding, target?: KekRef): Promise<WrappedDek> {
    checkDek(dek);
    checkBinding(binding);
    const arn = target === undefined ? undefined : await this.#checkTarget(target, binding);
    const keyId = arn ?? primaryAliasName(this.#prefix, binding.kekName);
    const ref = target ?? refOf(keyId);

    const out = await this.#kms.send('Encrypt', ref, () =>
      this.#client.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: dek,
          EncryptionContext: encryptionContext(binding),
        }),
      ),
    );

    if (out.KeyId === undefined || out.CiphertextBlob === undefined) {
      throw new KekUnavailableError(`aws kms Encrypt returned no key id or ciphertext (${ref})`);
    }
    if (arn !== undefined && out.KeyId !== arn) {
      throw new KekUnavailableError(`aws kms Encrypt used another key than ${ref}`);
    }
    return { kekRef: refOf(out.KeyId), bytes: out.CiphertextBlob };
  }

  /**
   * Unwraps with `Decrypt`, naming the key of the ref and checking the key KMS used.
   *
   * @throws {KekRefError} `KEK_REF_UNKNOWN` or `KEK_REF_DISABLED`, naming the ref.
   * @throws {DecryptionError} when the bytes or the binding (encryption context) do not match.
   * @throws {RateLimitError} when KMS still throttles after the retries.
   * @throws {KekUnavailableError} when KMS cannot be reached or refuses the key's state.
   */
  async unwrap(wrapped: WrappedDek, binding: DekBinding): Promise<Uint8Array> {
    checkBinding(binding);
    const arn = await this.#checkSource(wrapped?.kekRef);
    const blob = wrapped.bytes;
    if (!(blob instanceof Uint8Array) || blob.length === 0 || blob.length > MAX_CIPHERTEXT) {
      throw new DecryptionError();
    }

    const out = await this.#kms.send('Decrypt', wrapped.kekRef, () =>
      this.#client.send(
        new DecryptCommand({
          KeyId: arn,
          CiphertextBlob: blob,
          EncryptionContext: encryptionContext(binding),
        }),
      ),
    );

    // Decrypt names its key: the answer must come from that key and be a DEK.
    if (out.KeyId !== arn || out.Plaintext?.length !== DEK_LENGTH) throw new DecryptionError();
    return out.Plaintext;
  }

  /**
   * Server-side rewrap with `ReEncrypt`: the plaintext DEK never leaves KMS.
   *
   * @throws {KekRefError} when the source or the target is unknown or disabled, or the target
   * is of another KEK name.
   * @throws {DecryptionError} when the bytes or the binding do not match.
   * @throws {RateLimitError} when KMS still throttles after the retries.
   */
  async rewrap(wrapped: WrappedDek, binding: DekBinding, target: KekRef): Promise<WrappedDek> {
    checkBinding(binding);
    const source = await this.#checkSource(wrapped?.kekRef);
    const destination = await this.#checkTarget(target, binding);
    const blob = wrapped.bytes;
    if (!(blob instanceof Uint8Array) || blob.length === 0 || blob.length > MAX_CIPHERTEXT) {
      throw new DecryptionError();
    }

    const ctx = encryptionContext(binding);
    const out = await this.#kms.send('ReEncrypt', wrapped.kekRef, () =>
      this.#client.send(
        new ReEncryptCommand({
          CiphertextBlob: blob,
          SourceKeyId: source,
          SourceEncryptionContext: ctx,
          DestinationKeyId: destination,
          DestinationEncryptionContext: ctx,
        }),
      ),
    );

    if (out.SourceKeyId !== source) throw new DecryptionError();
    if (out.KeyId !== destination || out.CiphertextBlob === undefined) {
      throw new KekUnavailableError(`aws kms ReEncrypt used another key than ${target}`);
    }
    return { kekRef: target, bytes: out.CiphertextBlob };
  }

  /**
   * The key ARN the KEK name's alias targets now, as a ref.
   *
   * @throws {KekRefError} (`KEK_REF_UNKNOWN`) when the alias does not exist.
   */
  async primary(kekName: KekName): Promise<KekRef> {
    checkKekName(kekName);
    const alias = primaryAliasName(this.#prefix, kekName);
    const out = await this.#kms.send('DescribeKey', refOf(alias), () =>
      this.#client.send(new DescribeKeyCommand({ KeyId: alias })),
    );
    const arn = out.KeyMetadata?.Arn;
    if (arn === undefined) throw new KekRefError('KEK_REF_UNKNOWN', refOf(alias));
    return refOf(arn);
  }

  /** Every version recorded by a version alias, oldest first; empty for an unknown name. */
  async describe(kekName: KekName): Promise<readonly KekVersion[]> {
    checkKekName(kekName);
    const aliases = await this.#kms.listAliases();
    const versions = this.#kms.rememberVersions(kekName, aliases);
    const primaryAlias = primaryAliasName(this.#prefix, kekName);
    const primary = aliases.find((a) => a.AliasName === primaryAlias);
    const primaryArn = primary === undefined ? undefined : keyArnOf(primary);

    return Promise.all(
      versions.map(async (v): Promise<KekVersion> => {
        const ref = refOf(v.keyArn);
        const out = await this.#kms.send('DescribeKey', ref, () =>
          this.#client.send(new DescribeKeyCommand({ KeyId: v.keyArn })),
        );
        const keyState = out.KeyMetadata?.KeyState;
        this.#kms.setKeyState(v.keyArn, keyState);
        const state =
          v.keyArn === primaryArn ? 'primary' : keyState === 'Enabled' ? 'active' : 'disabled';
        return { ref, kekName, state, createdAt: out.KeyMetadata?.CreationDate ?? new Date(0) };
      }),
    );
  }

  /**
   * Creates a key, records it as the next version alias and points the KEK name's alias at it.
   *
   * Rotations are serialised within this provider. Two processes rotating one KEK name at once
   * pick the same version number, and KMS lets only one of them create that version alias: the
   * other tags the key it created `rekey:abandoned`, disables it (never deletes it) and fails.
   *
   * NOTE: a process that stops between `CreateKey` and creating the version alias (a crash, a
   * lost connection) still leaves an enabled key without alias, found by its `rekey:kek-name`
   * tag. And KMS cannot move an alias conditionally: a rotation that starts after this one
   * recorded its version but before it moved the KEK name's alias makes both succeed, and the
   * alias may end on the older of the two new versions.
   *
   * @throws {KekUnavailableError} (retryable) when a concurrent rotation took the version number
   * first; the message names the abandoned key's ARN, and asks for a manual clean-up when
   * disabling it failed.
   * @throws {ConfigError} when KMS refuses (access, quotas).
   */
  async rotate(kekName: KekName): Promise<KekVersion> {
    checkKekName(kekName);
    return this.#serially(async () => {
      const aliases = await this.#kms.listAliases();
      const listed = versionsOf(aliases, this.#prefix, kekName);
      const own = this.#created.get(kekName);
      const known =
        own === undefined || listed.some((v) => v.version >= own.version)
          ? listed
          : [...listed, own];
      const number = (known.at(-1)?.version ?? 0) + 1;
      const primaryAlias = primaryAliasName(this.#prefix, kekName);
      const versionAlias = versionAliasName(this.#prefix, kekName, number);

      const created = await this.#kms.send('CreateKey', undefined, () =>
        this.#client.send(
          new CreateKeyCommand({
            Description: `rekey KEK ${kekName} v${number}`,
            KeyUsage: 'ENCRYPT_DECRYPT',
            KeySpec: 'SYMMETRIC_DEFAULT',
            Tags: [
              { TagKey: 'rekey:kek-name', TagValue: kekName },
              { TagKey: 'rekey:kek-version', TagValue: String(number) },
            ],
          }),
        ),
      );
      const arn = created.KeyMetadata?.Arn;
      if (arn === undefined) throw new KekUnavailableError('aws kms CreateKey returned no arn');
      // The version alias first: a crash after it leaves an extra active version, never a
      // primary that the history does not list.
      const ref = refOf(arn);
      await this.#recordVersion(kekName, versionAlias, arn);
      const moving = own !== undefined || aliases.some((a) => a.AliasName === primaryAlias);
      await this.#kms.send(moving ? 'UpdateAlias' : 'CreateAlias', ref, () =>
        this.#client.send(
          moving
            ? new UpdateAliasCommand({ AliasName: primaryAlias, TargetKeyId: arn })
            : new CreateAliasCommand({ AliasName: primaryAlias, TargetKeyId: arn }),
        ),
      );

      // Cached directly: ListAliases is eventually consistent and may not list it yet.
      const version = { version: number, aliasName: versionAlias, keyArn: arn };
      this.#created.set(kekName, version);
      this.#kms.setVersions(kekName, [...known, version]);
      this.#kms.setKeyState(arn, 'Enabled');
      const createdAt = created.KeyMetadata?.CreationDate ?? new Date();
      return { ref, kekName, state: 'primary', createdAt };
    });
  }

  /**
   * Disables a non-primary version with `DisableKey`. Never schedules deletion.
   *
   * @throws {KekRefError} when the ref is not a version of any KEK name under the prefix.
   * @throws {ConfigError} when the ref is the primary version.
   */
  async disable(ref: KekRef): Promise<void> {
    const arn = arnOf(ref);
    await this.#serially(async () => {
      const aliases = await this.#kms.listAliases();
      const owner = aliases.find(
        (a) =>
          a.AliasName?.startsWith(this.#prefix) &&
          /\/v[1-9][0-9]*$/.test(a.AliasName) &&
          keyArnOf(a) === arn,
      );
      if (owner === undefined) throw new KekRefError('KEK_REF_UNKNOWN', ref);
      const kekName = (owner.AliasName as string).slice(this.#prefix.length).replace(/\/v\d+$/, '');
      const primaryAlias = primaryAliasName(this.#prefix, kekName);
      const primary = aliases.find((a) => a.AliasName === primaryAlias);
      if (primary !== undefined && keyArnOf(primary) === arn) {
        throw new ConfigError(`cannot disable the primary kek version: ${ref}`);
      }

      await this.#kms.send('DisableKey', ref, () =>
        this.#client.send(new DisableKeyCommand({ KeyId: arn })),
      );
      this.#kms.setKeyState(arn, 'Disabled');
    });
  }

  /** Forgets cached state and, when the provider built the client, destroys it. */
  async close(): Promise<void> {
    this.#kms.clear();
    if (this.#ownsClient) this.#client.destroy();
  }

  /**
   * Creates the version alias of a key `rotate` just created. When the alias exists already, a
   * concurrent rotation took this version number: the key is tagged `rekey:abandoned` and
   * disabled, so that nothing is left enabled without an alias.
   *
   * @throws {KekUnavailableError} when a concurrent rotation won, naming the key's ARN.
   */
  async #recordVersion(kekName: KekName, alias: string, arn: string): Promise<void> {
    const ref = refOf(arn);
    let taken: unknown;
    try {
      await this.#kms.send('CreateAlias', ref, () =>
        this.#client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: arn })),
      );
      return;
    } catch (error) {
      if (kmsErrorNameOf(error) !== 'AlreadyExistsException') throw error;
      taken = error;
    }

    const lost = `aws kms rotate of ${kekName} lost to a concurrent rotation: ${alias} exists`;
    let step = 'DescribeKey';
    try {
      const holder = await this.#kms.send('DescribeKey', refOf(alias), () =>
        this.#client.send(new DescribeKeyCommand({ KeyId: alias })),
      );
      const holderArn = holder.KeyMetadata?.Arn;
      if (holderArn === undefined) throw new KekUnavailableError('no arn');
      // A client that retried after a lost answer meets the alias its first attempt created.
      if (holderArn === arn) return;

      // Tagged first, so that a key a failed DisableKey leaves enabled can still be found.
      step = 'TagResource';
      await this.#kms.send(step, ref, () =>
        this.#client.send(
          new TagResourceCommand({
            KeyId: arn,
            Tags: [{ TagKey: ABANDONED_TAG, TagValue: 'concurrent-rotation' }],
          }),
        ),
      );
      step = 'DisableKey';
      await this.#kms.send(step, ref, () =>
        this.#client.send(new DisableKeyCommand({ KeyId: arn })),
      );
    } catch (error) {
      const name = kmsErrorNameOf(error) ?? (error as RekeyError).code;
      throw new KekUnavailableError(
        `${lost}; could not clean up key ${arn} (${step}: ${name}): ` +
          `disable it by hand unless ${alias} targets it`,
        { cause: taken },
      );
    }
    throw new KekUnavailableError(`${lost}; key ${arn} is disabled and tagged ${ABANDONED_TAG}`, {
      cause: taken,
    });
  }

  /** The ARN of a ref to unwrap from, after checking the key exists and is enabled. */
  async #checkSource(ref: unknown): Promise<string> {
    const arn = arnOf(ref);
    const state = await this.#kms.keyState(arn, ref as KekRef);
    if (state === 'Disabled') throw new KekRefError('KEK_REF_DISABLED', ref as KekRef);
    if (state !== 'Enabled') {
      throw new KekUnavailableError(`aws kms key is ${state ?? 'in an unknown state'} (${ref})`);
    }
    return arn;
  }

  /** The ARN of a target ref, after checking it is a version of the binding's KEK name. */
  async #checkTarget(target: KekRef, binding: DekBinding): Promise<string> {
    const arn = arnOf(target);
    let versions = await this.#kms.versionsOf(binding.kekName, false);
    if (!versions.some((v) => v.keyArn === arn)) {
      versions = await this.#kms.versionsOf(binding.kekName, true);
    }
    if (!versions.some((v) => v.keyArn === arn)) throw new KekRefError('KEK_REF_UNKNOWN', target);
    return this.#checkSource(target);
  }

  #serially<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#changes.then(change);
    this.#changes = run.catch(() => undefined);
    return run;
  }
}
