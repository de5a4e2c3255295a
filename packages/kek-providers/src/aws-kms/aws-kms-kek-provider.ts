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
  type KeyState,
  KMSClient,
  type KMSClientConfig,
  ListAliasesCommand,
  ReEncryptCommand,
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
  type WrappedDek,
} from '@rekey/crypto-core';

import { checkBinding, checkDek, checkKekName, DEK_LENGTH } from '../_checks.ts';
import {
  type AliasListing,
  checkAliasPrefix,
  DEFAULT_ALIAS_PREFIX,
  type KekVersionAlias,
  keyArnOf,
  primaryAliasName,
  versionAliasName,
  versionsOf,
} from './kek-aliases.ts';
import { isThrottling, mapKmsError } from './kms-errors.ts';
import { backoffCap, DEFAULT_RETRY_POLICY, type RetryPolicy, withRetries } from './retry.ts';

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
}

interface Cached<T> {
  readonly value: T;
  readonly expires: number;
}

const PREFIX = 'aws-kms:';
const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;
const MAX_CIPHERTEXT = 6144;

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
  readonly #policy: RetryPolicy;
  readonly #ttl: number;
  readonly #keyStates = new Map<string, Cached<KeyState | undefined>>();
  readonly #versions = new Map<KekName, Cached<readonly KekVersionAlias[]>>();
  #changes: Promise<unknown> = Promise.resolve();

  /** @throws {ConfigError} when the alias prefix is malformed. */
  constructor(options: AwsKmsKekProviderOptions = {}) {
    this.#prefix = options.aliasPrefix ?? DEFAULT_ALIAS_PREFIX;
    checkAliasPrefix(this.#prefix);
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#ttl = options.cacheTtlMs ?? 60_000;
    this.#ownsClient = options.client === undefined;
    // maxAttempts 1: this provider retries throttling itself, with counts it controls.
    this.#client =
      options.client ??
      new KMSClient({
        region: options.region,
        endpoint: options.endpoint,
        credentials: options.credentials,
        maxAttempts: 1,
      });
  }

  async wrap(dek: Uint8Array, binding: DekBinding, target?: KekRef): Promise<WrappedDek> {
    checkDek(dek);
    checkBinding(binding);
    const arn = target === undefined ? undefined : await this.#checkTarget(target, binding);
    const keyId = arn ?? primaryAliasName(this.#prefix, binding.kekName);
    const ref = target ?? `${PREFIX}${keyId}`;

    const out = await this.#send('Encrypt', ref, () =>
      this.#client.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: dek, EncryptionContext: context(binding) }),
      ),
    );

    if (out.KeyId === undefined || out.CiphertextBlob === undefined) {
      throw new KekUnavailableError(`aws kms Encrypt returned no key id or ciphertext (${ref})`);
    }
    if (arn !== undefined && out.KeyId !== arn) {
      throw new KekUnavailableError(`aws kms Encrypt used another key than ${ref}`);
    }
    return { kekRef: `${PREFIX}${out.KeyId}`, bytes: out.CiphertextBlob };
  }

  async unwrap(wrapped: WrappedDek, binding: DekBinding): Promise<Uint8Array> {
    checkBinding(binding);
    const arn = await this.#checkSource(wrapped?.kekRef);
    const blob = wrapped.bytes;
    if (!(blob instanceof Uint8Array) || blob.length === 0 || blob.length > MAX_CIPHERTEXT) {
      throw new DecryptionError();
    }

    const out = await this.#send('Decrypt', wrapped.kekRef, () =>
      this.#client.send(
        new DecryptCommand({
          KeyId: arn,
          CiphertextBlob: blob,
          EncryptionContext: context(binding),
        }),
      ),
    );

    // Decrypt names its key: the answer must come from that key and be a DEK.
    if (out.KeyId !== arn || out.Plaintext?.length !== DEK_LENGTH) throw new DecryptionError();
    return out.Plaintext;
  }

  /** Server-side rewrap with `ReEncrypt`: the plaintext DEK never leaves KMS. */
  async rewrap(wrapped: WrappedDek, binding: DekBinding, target: KekRef): Promise<WrappedDek> {
    checkBinding(binding);
    const source = await this.#checkSource(wrapped?.kekRef);
    const destination = await this.#checkTarget(target, binding);
    const blob = wrapped.bytes;
    if (!(blob instanceof Uint8Array) || blob.length === 0 || blob.length > MAX_CIPHERTEXT) {
      throw new DecryptionError();
    }

    const ctx = context(binding);
    const out = await this.#send('ReEncrypt', wrapped.kekRef, () =>
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

  async primary(kekName: KekName): Promise<KekRef> {
    checkKekName(kekName);
    const alias = primaryAliasName(this.#prefix, kekName);
    const out = await this.#send('DescribeKey', `${PREFIX}${alias}`, () =>
      this.#client.send(new DescribeKeyCommand({ KeyId: alias })),
    );
    const arn = out.KeyMetadata?.Arn;
    if (arn === undefined) throw new KekRefError('KEK_REF_UNKNOWN', `${PREFIX}${alias}`);
    return `${PREFIX}${arn}`;
  }

  async describe(kekName: KekName): Promise<readonly KekVersion[]> {
    checkKekName(kekName);
    const aliases = await this.#listAliases();
    const versions = this.#remember(kekName, aliases);
    const primaryAlias = primaryAliasName(this.#prefix, kekName);
    const primary = aliases.find((a) => a.AliasName === primaryAlias);
    const primaryArn = primary === undefined ? undefined : keyArnOf(primary);

    return Promise.all(
      versions.map(async (v): Promise<KekVersion> => {
        const ref = `${PREFIX}${v.keyArn}`;
        const out = await this.#send('DescribeKey', ref, () =>
          this.#client.send(new DescribeKeyCommand({ KeyId: v.keyArn })),
        );
        const keyState = out.KeyMetadata?.KeyState;
        this.#keyStates.set(v.keyArn, { value: keyState, expires: Date.now() + this.#ttl });
        const state =
          v.keyArn === primaryArn ? 'primary' : keyState === 'Enabled' ? 'active' : 'disabled';
        return { ref, kekName, state, createdAt: out.KeyMetadata?.CreationDate ?? new Date(0) };
      }),
    );
  }

  async rotate(kekName: KekName): Promise<KekVersion> {
    checkKekName(kekName);
    return this.#serially(async () => {
      const aliases = await this.#listAliases();
      const number = (versionsOf(aliases, this.#prefix, kekName).at(-1)?.version ?? 0) + 1;
      const primaryAlias = primaryAliasName(this.#prefix, kekName);
      const versionAlias = versionAliasName(this.#prefix, kekName, number);

      const created = await this.#send('CreateKey', undefined, () =>
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
      const ref = `${PREFIX}${arn}`;
      await this.#send('CreateAlias', ref, () =>
        this.#client.send(new CreateAliasCommand({ AliasName: versionAlias, TargetKeyId: arn })),
      );
      const moving = aliases.some((a) => a.AliasName === primaryAlias);
      await this.#send(moving ? 'UpdateAlias' : 'CreateAlias', ref, () =>
        this.#client.send(
          moving
            ? new UpdateAliasCommand({ AliasName: primaryAlias, TargetKeyId: arn })
            : new CreateAliasCommand({ AliasName: primaryAlias, TargetKeyId: arn }),
        ),
      );

      this.#versions.delete(kekName);
      this.#keyStates.set(arn, { value: 'Enabled', expires: Date.now() + this.#ttl });
      const createdAt = created.KeyMetadata?.CreationDate ?? new Date();
      return { ref, kekName, state: 'primary', createdAt };
    });
  }

  async disable(ref: KekRef): Promise<void> {
    const arn = arnOf(ref);
    await this.#serially(async () => {
      const aliases = await this.#listAliases();
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

      await this.#send('DisableKey', ref, () =>
        this.#client.send(new DisableKeyCommand({ KeyId: arn })),
      );
      this.#keyStates.set(arn, { value: 'Disabled', expires: Date.now() + this.#ttl });
    });
  }

  async close(): Promise<void> {
    this.#keyStates.clear();
    this.#versions.clear();
    if (this.#ownsClient) this.#client.destroy();
  }

  /** The ARN of a ref to unwrap from, after checking the key exists and is enabled. */
  async #checkSource(ref: unknown): Promise<string> {
    const arn = arnOf(ref);
    const state = await this.#keyState(arn, ref as KekRef);
    if (state === 'Disabled') throw new KekRefError('KEK_REF_DISABLED', ref as KekRef);
    if (state !== 'Enabled') {
      throw new KekUnavailableError(`aws kms key is ${state ?? 'in an unknown state'} (${ref})`);
    }
    return arn;
  }

  /** The ARN of a target ref, after checking it is a version of the binding's KEK name. */
  async #checkTarget(target: KekRef, binding: DekBinding): Promise<string> {
    const arn = arnOf(target);
    let versions = await this.#versionsOf(binding.kekName, false);
    if (!versions.some((v) => v.keyArn === arn)) {
      versions = await this.#versionsOf(binding.kekName, true);
    }
    if (!versions.some((v) => v.keyArn === arn)) throw new KekRefError('KEK_REF_UNKNOWN', target);
    return this.#checkSource(target);
  }

  async #keyState(arn: string, ref: KekRef): Promise<KeyState | undefined> {
    const cached = this.#keyStates.get(arn);
    if (cached !== undefined && cached.expires > Date.now()) return cached.value;
    const out = await this.#send('DescribeKey', ref, () =>
      this.#client.send(new DescribeKeyCommand({ KeyId: arn })),
    );
    const state = out.KeyMetadata?.KeyState;
    this.#keyStates.set(arn, { value: state, expires: Date.now() + this.#ttl });
    return state;
  }

  async #versionsOf(kekName: KekName, fresh: boolean): Promise<readonly KekVersionAlias[]> {
    const cached = this.#versions.get(kekName);
    if (!fresh && cached !== undefined && cached.expires > Date.now()) return cached.value;
    return this.#remember(kekName, await this.#listAliases());
  }

  #remember(kekName: KekName, aliases: readonly AliasListing[]): readonly KekVersionAlias[] {
    const versions = versionsOf(aliases, this.#prefix, kekName);
    this.#versions.set(kekName, { value: versions, expires: Date.now() + this.#ttl });
    return versions;
  }

  async #listAliases(): Promise<AliasListing[]> {
    const aliases: AliasListing[] = [];
    let marker: string | undefined;
    do {
      const out = await this.#send('ListAliases', undefined, () =>
        this.#client.send(new ListAliasesCommand({ Limit: 100, Marker: marker })),
      );
      aliases.push(...(out.Aliases ?? []));
      marker = out.Truncated === true ? out.NextMarker : undefined;
    } while (marker !== undefined);
    return aliases;
  }

  /** One KMS call with retries on throttling; failures become rekey errors. */
  async #send<T>(operation: string, ref: KekRef | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(call, isThrottling, this.#policy);
    } catch (error) {
      const retryAfterMs = backoffCap(this.#policy.maxAttempts, this.#policy);
      const mapped = mapKmsError(error, { operation, ref, retryAfterMs });
      // A key disabled or deleted behind our back: forget its cached state so the next call
      // reports it as such.
      const stale = mapped.code === 'KEK_UNAVAILABLE' || mapped.code === 'KEK_REF_UNKNOWN';
      if (stale && ref?.startsWith(PREFIX)) this.#keyStates.delete(ref.slice(PREFIX.length));
      throw mapped;
    }
  }

  #serially<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#changes.then(change);
    this.#changes = run.catch(() => undefined);
    return run;
  }
}

/** The key ARN of a ref. @throws {KekRefError} `KEK_REF_UNKNOWN` when it is not one. */
function arnOf(ref: unknown): string {
  const arn = typeof ref === 'string' && ref.startsWith(PREFIX) ? ref.slice(PREFIX.length) : '';
  if (!KEY_ARN.test(arn)) throw new KekRefError('KEK_REF_UNKNOWN', String(ref));
  return arn;
}

/**
 * The encryption context of a wrapped DEK. KMS may refuse empty context values, so an empty
 * scope is left out; a scope that is present is never empty, so the mapping stays injective.
 */
function context(binding: DekBinding): Record<string, string> {
  const ctx: Record<string, string> = {
    'rekey:dek-id': binding.dekId,
    'rekey:kek-name': binding.kekName,
  };
  if (binding.scope !== '') ctx['rekey:scope'] = binding.scope;
  return ctx;
}
