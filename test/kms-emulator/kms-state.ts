/**
 * The emulator's key state and the KMS operations over it, one method per operation, speaking
 * the JSON shapes of the AWS KMS API (base64 blobs, epoch-second dates). No HTTP here.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { type EncryptionContext, openBlob, parseBlob, sealBlob } from './ciphertext-blob.ts';

/** A KMS error: its `__type`, message and HTTP status. */
export class KmsFault extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

interface Key {
  readonly id: string;
  readonly arn: string;
  readonly material: Buffer;
  readonly createdAt: Date;
  readonly description: string;
  readonly tags: Map<string, string>;
  enabled: boolean;
}

interface Alias {
  readonly name: string;
  targetKeyId: string;
  readonly createdAt: Date;
  updatedAt: Date;
}

type Json = Record<string, unknown>;

const PAGE_LIMIT = 100;

export class KmsState {
  readonly region: string;
  readonly account: string;
  readonly #keys = new Map<string, Key>();
  readonly #aliases = new Map<string, Alias>();

  constructor(region: string, account: string) {
    this.region = region;
    this.account = account;
  }

  CreateKey(input: Json): Json {
    if (input.KeyUsage !== undefined && input.KeyUsage !== 'ENCRYPT_DECRYPT') {
      throw new KmsFault('UnsupportedOperationException', 'only ENCRYPT_DECRYPT keys are emulated');
    }
    const spec = input.KeySpec ?? input.CustomerMasterKeySpec;
    if (spec !== undefined && spec !== 'SYMMETRIC_DEFAULT') {
      throw new KmsFault('UnsupportedOperationException', 'only SYMMETRIC_DEFAULT is emulated');
    }
    const id = randomUUID();
    const key: Key = {
      id,
      arn: `arn:aws:kms:${this.region}:${this.account}:key/${id}`,
      material: randomBytes(32),
      createdAt: new Date(),
      description: typeof input.Description === 'string' ? input.Description : '',
      tags: new Map(tagList(input.Tags)),
      enabled: true,
    };
    this.#keys.set(id, key);
    return { KeyMetadata: this.#metadata(key) };
  }

  DescribeKey(input: Json): Json {
    return { KeyMetadata: this.#metadata(this.#resolve(input.KeyId)) };
  }

  EnableKey(input: Json): Json {
    this.#resolve(input.KeyId, { aliases: false }).enabled = true;
    return {};
  }

  DisableKey(input: Json): Json {
    this.#resolve(input.KeyId, { aliases: false }).enabled = false;
    return {};
  }

  TagResource(input: Json): Json {
    const key = this.#resolve(input.KeyId, { aliases: false });
    for (const [k, v] of tagList(input.Tags)) key.tags.set(k, v);
    return {};
  }

  ListResourceTags(input: Json): Json {
    const key = this.#resolve(input.KeyId, { aliases: false });
    const tags = [...key.tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
    return { Tags: tags, Truncated: false };
  }

  ListKeys(input: Json): Json {
    const keys = [...this.#keys.values()].map((k) => ({ KeyId: k.id, KeyArn: k.arn }));
    return page(keys, input, 'Keys');
  }

  CreateAlias(input: Json): Json {
    const name = aliasName(input.AliasName);
    if (this.#aliases.has(name)) {
      throw new KmsFault(
        'AlreadyExistsException',
        `An alias with the name ${this.#aliasArn(name)} already exists`,
      );
    }
    const key = this.#resolve(input.TargetKeyId, { aliases: false });
    const now = new Date();
    this.#aliases.set(name, { name, targetKeyId: key.id, createdAt: now, updatedAt: now });
    return {};
  }

  UpdateAlias(input: Json): Json {
    const alias = this.#aliases.get(aliasName(input.AliasName));
    if (alias === undefined) throw new KmsFault('NotFoundException', 'Alias does not exist');
    alias.targetKeyId = this.#resolve(input.TargetKeyId, { aliases: false }).id;
    alias.updatedAt = new Date();
    return {};
  }

  ListAliases(input: Json): Json {
    const filter = input.KeyId === undefined ? undefined : this.#resolve(input.KeyId).id;
    const aliases = [...this.#aliases.values()]
      .filter((a) => filter === undefined || a.targetKeyId === filter)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((a) => ({
        AliasName: a.name,
        AliasArn: this.#aliasArn(a.name),
        TargetKeyId: a.targetKeyId,
        CreationDate: seconds(a.createdAt),
        LastUpdatedDate: seconds(a.updatedAt),
      }));
    return page(aliases, input, 'Aliases');
  }

  Encrypt(input: Json): Json {
    const key = this.#usable(this.#resolve(input.KeyId));
    const plaintext = blob(input.Plaintext, 'Plaintext', 4096);
    const sealed = sealBlob(key.id, key.material, plaintext, context(input.EncryptionContext));
    return {
      CiphertextBlob: sealed.toString('base64'),
      KeyId: key.arn,
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  }

  GenerateDataKey(input: Json): Json {
    const key = this.#usable(this.#resolve(input.KeyId));
    const length =
      typeof input.NumberOfBytes === 'number'
        ? input.NumberOfBytes
        : ({ AES_256: 32, AES_128: 16 } as Record<string, number>)[String(input.KeySpec)];
    if (length === undefined || !Number.isInteger(length) || length < 1 || length > 1024) {
      throw new KmsFault('ValidationException', 'KeySpec or NumberOfBytes (1-1024) is required');
    }
    const plaintext = randomBytes(length);
    const sealed = sealBlob(key.id, key.material, plaintext, context(input.EncryptionContext));
    return {
      CiphertextBlob: sealed.toString('base64'),
      Plaintext: plaintext.toString('base64'),
      KeyId: key.arn,
    };
  }

  Decrypt(input: Json): Json {
    const { key, plaintext } = this.#open(
      input.CiphertextBlob,
      input.KeyId,
      input.EncryptionContext,
    );
    return {
      Plaintext: plaintext.toString('base64'),
      KeyId: key.arn,
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  }

  ReEncrypt(input: Json): Json {
    const source = this.#open(
      input.CiphertextBlob,
      input.SourceKeyId,
      input.SourceEncryptionContext,
    );
    const target = this.#usable(this.#resolve(input.DestinationKeyId));
    const context2 = context(input.DestinationEncryptionContext);
    const sealed = sealBlob(target.id, target.material, source.plaintext, context2);
    return {
      CiphertextBlob: sealed.toString('base64'),
      SourceKeyId: source.key.arn,
      KeyId: target.arn,
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  }

  #open(ciphertext: unknown, keyId: unknown, ctx: unknown): { key: Key; plaintext: Buffer } {
    const parsed = parseBlob(blob(ciphertext, 'CiphertextBlob', 6144));
    const key = parsed === undefined ? undefined : this.#keys.get(parsed.keyId);
    if (parsed === undefined || key === undefined) throw invalidCiphertext();
    if (keyId !== undefined && this.#resolve(keyId).id !== key.id) {
      throw new KmsFault(
        'IncorrectKeyException',
        'The key ID in the request does not identify a KMS key that can perform this operation.',
      );
    }
    this.#usable(key);
    const plaintext = openBlob(parsed, key.material, context(ctx));
    if (plaintext === undefined) throw invalidCiphertext();
    return { key, plaintext };
  }

  #usable(key: Key): Key {
    if (!key.enabled) throw new KmsFault('DisabledException', `${key.arn} is disabled.`);
    return key;
  }

  /** A key by id, key ARN, alias name or alias ARN. */
  #resolve(ref: unknown, options: { aliases: boolean } = { aliases: true }): Key {
    if (typeof ref !== 'string' || ref.length === 0) {
      throw new KmsFault('ValidationException', 'KeyId is required');
    }
    const prefix = `arn:aws:kms:${this.region}:${this.account}:`;
    const local = ref.startsWith(prefix) ? ref.slice(prefix.length) : ref;
    let id: string | undefined;
    if (local.startsWith('key/')) id = local.slice(4);
    else if (local.startsWith('alias/') && options.aliases)
      id = this.#aliases.get(local)?.targetKeyId;
    else if (!local.startsWith('arn:') && !local.startsWith('alias/')) id = local;
    const key = id === undefined ? undefined : this.#keys.get(id);
    if (key === undefined) throw new KmsFault('NotFoundException', `Key '${ref}' does not exist`);
    return key;
  }

  #metadata(key: Key): Json {
    return {
      AWSAccountId: this.account,
      KeyId: key.id,
      Arn: key.arn,
      CreationDate: seconds(key.createdAt),
      Enabled: key.enabled,
      Description: key.description,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: key.enabled ? 'Enabled' : 'Disabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      KeySpec: 'SYMMETRIC_DEFAULT',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
    };
  }

  #aliasArn(name: string): string {
    return `arn:aws:kms:${this.region}:${this.account}:${name}`;
  }
}

function invalidCiphertext(): KmsFault {
  return new KmsFault('InvalidCiphertextException', '');
}

function aliasName(value: unknown): string {
  if (typeof value !== 'string' || !/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(value)) {
    throw new KmsFault('ValidationException', 'AliasName must match alias/[a-zA-Z0-9/_-]+');
  }
  if (value.startsWith('alias/aws/')) {
    throw new KmsFault('NotAuthorizedException', 'alias/aws/ is reserved for AWS managed keys');
  }
  return value;
}

function blob(value: unknown, name: string, max: number): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
  if (bytes === undefined || bytes.length < 1 || bytes.length > max) {
    throw new KmsFault('ValidationException', `${name} must be 1 to ${max} bytes`);
  }
  return bytes;
}

function context(value: unknown): EncryptionContext {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new KmsFault('ValidationException', 'EncryptionContext must be a string map');
  }
  for (const v of Object.values(value)) {
    if (typeof v !== 'string') {
      throw new KmsFault('ValidationException', 'EncryptionContext must be a string map');
    }
  }
  return value as EncryptionContext;
}

function tagList(value: unknown): [string, string][] {
  if (!Array.isArray(value)) return [];
  return value.map((t: { TagKey?: unknown; TagValue?: unknown }) => [
    String(t.TagKey),
    String(t.TagValue ?? ''),
  ]);
}

function page<T>(items: readonly T[], input: Json, field: string): Json {
  const limit = typeof input.Limit === 'number' ? Math.min(PAGE_LIMIT, input.Limit) : 50;
  const start = typeof input.Marker === 'string' ? Number(input.Marker) : 0;
  const slice = items.slice(start, start + limit);
  const truncated = start + limit < items.length;
  return {
    [field]: slice,
    Truncated: truncated,
    ...(truncated ? { NextMarker: String(start + limit) } : {}),
  };
}

function seconds(date: Date): number {
  return date.getTime() / 1000;
}
