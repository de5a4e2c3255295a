/**
 * Where the aws-kms provider keeps the history of a KEK name: one alias per version,
 * `<prefix><kekName>/v<n>`, next to the primary alias `<prefix><kekName>`. Aliases are listable
 * (`ListAliases`), survive key rotation of any other name, and never hold key material.
 */
import { ConfigError, type KekName } from '@rekey/crypto-core';

/** The alias prefix used when none is configured. */
export const DEFAULT_ALIAS_PREFIX = 'alias/rekey/';

/** One version of a KEK name, as its version alias records it. */
export interface KekVersionAlias {
  readonly version: number;
  readonly aliasName: string;
  readonly keyArn: string;
}

/** An entry of `ListAliases`, the fields this module reads. */
export interface AliasListing {
  readonly AliasName?: string;
  readonly AliasArn?: string;
  readonly TargetKeyId?: string;
}

/**
 * Throws unless `prefix` is a usable alias prefix: `alias/`, then alias characters, ending in `/`.
 *
 * @throws {ConfigError} naming the field.
 */
export function checkAliasPrefix(prefix: string): void {
  if (!/^alias\/([A-Za-z0-9_-]+\/)*$/.test(prefix) || prefix.startsWith('alias/aws/')) {
    throw new ConfigError('"aliasPrefix" expected "alias/" and path segments ending in "/"');
  }
}

/** The alias whose target is the primary version of a KEK name. */
export function primaryAliasName(prefix: string, kekName: KekName): string {
  return `${prefix}${kekName}`;
}

/** The alias that records version `n` of a KEK name. */
export function versionAliasName(prefix: string, kekName: KekName, version: number): string {
  return `${prefix}${kekName}/v${version}`;
}

/** The versions of a KEK name among listed aliases, oldest first. */
export function versionsOf(
  aliases: readonly AliasListing[],
  prefix: string,
  kekName: KekName,
): KekVersionAlias[] {
  const head = `${prefix}${kekName}/v`;
  const versions: KekVersionAlias[] = [];
  for (const alias of aliases) {
    const name = alias.AliasName ?? '';
    const number = name.startsWith(head) ? name.slice(head.length) : '';
    if (!/^[1-9][0-9]{0,8}$/.test(number)) continue;
    const keyArn = keyArnOf(alias);
    if (keyArn === undefined) continue;
    versions.push({ version: Number(number), aliasName: name, keyArn });
  }
  return versions.sort((a, b) => a.version - b.version);
}

/**
 * The ARN of the key an alias targets, built from the alias ARN
 * (`arn:<partition>:kms:<region>:<account>:alias/...`) and the target key id.
 */
export function keyArnOf(alias: AliasListing): string | undefined {
  const match = /^(arn:[^:]+:kms:[^:]*:[^:]*):alias\//.exec(alias.AliasArn ?? '');
  if (match === null || alias.TargetKeyId === undefined) return undefined;
  return `${match[1]}:key/${alias.TargetKeyId}`;
}
