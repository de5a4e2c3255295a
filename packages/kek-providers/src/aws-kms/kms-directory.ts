/**
 * The aws-kms provider's view of KMS: every call goes through `send` (retries on throttling,
 * errors mapped to rekey errors), and key states and version lists are cached for a while so
 * that a wrap or unwrap costs one KMS request.
 */
import {
  DescribeKeyCommand,
  type KeyState,
  type KMSClient,
  ListAliasesCommand,
} from '@aws-sdk/client-kms';
import type { KekName, KekRef } from '@rekey/crypto-core';

import { type AliasListing, type KekVersionAlias, versionsOf } from './kek-aliases.ts';
import { isThrottling, mapKmsError } from './kms-errors.ts';
import { REF_PREFIX } from './kms-refs.ts';
import { backoffCap, type RetryPolicy, withRetries } from './retry.ts';

interface Cached<T> {
  readonly value: T;
  readonly expires: number;
}

/** KMS calls with retries and error mapping, and caches of key states and version lists. */
export class KmsDirectory {
  readonly client: KMSClient;
  readonly #prefix: string;
  readonly #policy: RetryPolicy;
  readonly #ttl: number;
  readonly #keyStates = new Map<string, Cached<KeyState | undefined>>();
  readonly #versions = new Map<KekName, Cached<readonly KekVersionAlias[]>>();

  constructor(client: KMSClient, prefix: string, policy: RetryPolicy, ttlMs: number) {
    this.client = client;
    this.#prefix = prefix;
    this.#policy = policy;
    this.#ttl = ttlMs;
  }

  /**
   * One KMS call, retried while throttled.
   *
   * @throws {RekeyError} the mapped error (see `mapKmsError`), naming `ref` when given.
   */
  async send<T>(operation: string, ref: KekRef | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(call, isThrottling, this.#policy);
    } catch (error) {
      const retryAfterMs = backoffCap(this.#policy.maxAttempts, this.#policy);
      const mapped = mapKmsError(error, { operation, ref, retryAfterMs });
      // A key disabled or deleted behind our back: forget its cached state so the next call
      // reports it as such.
      const stale = mapped.code === 'KEK_UNAVAILABLE' || mapped.code === 'KEK_REF_UNKNOWN';
      if (stale && ref?.startsWith(REF_PREFIX))
        this.#keyStates.delete(ref.slice(REF_PREFIX.length));
      throw mapped;
    }
  }

  /** Every alias of the account and region, all pages. */
  async listAliases(): Promise<AliasListing[]> {
    const aliases: AliasListing[] = [];
    let marker: string | undefined;
    do {
      const out = await this.send('ListAliases', undefined, () =>
        this.client.send(new ListAliasesCommand({ Limit: 100, Marker: marker })),
      );
      aliases.push(...(out.Aliases ?? []));
      marker = out.Truncated === true ? out.NextMarker : undefined;
    } while (marker !== undefined);
    return aliases;
  }

  /** The versions of a KEK name, from the cache unless `fresh` or expired. */
  async versionsOf(kekName: KekName, fresh: boolean): Promise<readonly KekVersionAlias[]> {
    const cached = this.#versions.get(kekName);
    if (!fresh && cached !== undefined && cached.expires > Date.now()) return cached.value;
    return this.rememberVersions(kekName, await this.listAliases());
  }

  /** Caches and returns the versions of a KEK name found among listed aliases. */
  rememberVersions(kekName: KekName, aliases: readonly AliasListing[]): readonly KekVersionAlias[] {
    const versions = versionsOf(aliases, this.#prefix, kekName);
    this.setVersions(kekName, versions);
    return versions;
  }

  /** Caches the versions of a KEK name this process just changed. */
  setVersions(kekName: KekName, versions: readonly KekVersionAlias[]): void {
    this.#versions.set(kekName, { value: versions, expires: Date.now() + this.#ttl });
  }

  /** The state of a key, from the cache or `DescribeKey`. */
  async keyState(arn: string, ref: KekRef): Promise<KeyState | undefined> {
    const cached = this.#keyStates.get(arn);
    if (cached !== undefined && cached.expires > Date.now()) return cached.value;
    const out = await this.send('DescribeKey', ref, () =>
      this.client.send(new DescribeKeyCommand({ KeyId: arn })),
    );
    this.setKeyState(arn, out.KeyMetadata?.KeyState);
    return out.KeyMetadata?.KeyState;
  }

  /** Records the state of a key this process just saw or changed. */
  setKeyState(arn: string, state: KeyState | undefined): void {
    this.#keyStates.set(arn, { value: state, expires: Date.now() + this.#ttl });
  }

  /** Forgets everything cached. */
  clear(): void {
    this.#keyStates.clear();
    this.#versions.clear();
  }
}
