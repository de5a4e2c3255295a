/**
 * The in-memory form of a keyring: KEK versions per KEK name, oldest first. Shared by the
 * providers that wrap in process (local, platform-secret). Internal to this package.
 */
import type { KekName, KekVersionState } from '@rekey/crypto-core';

/** One KEK version as a keyring holds it. */
export interface KeyringEntry {
  /** The version's tag, unique within its KEK name: `v3` (local) or a label (platform-secret). */
  readonly tag: string;
  readonly createdAt: Date;
  readonly state: KekVersionState;
  /** The 32 KEK bytes, for keyrings that store material (local). */
  readonly key?: Uint8Array;
}

/** KEK versions per KEK name, oldest first. Never mutated: a change builds a new model. */
export type KeyringModel = ReadonlyMap<KekName, readonly KeyringEntry[]>;

/** A model with `entry` appended to `kekName` as primary, the former primary now active. */
export function withNewPrimary(
  model: KeyringModel,
  kekName: KekName,
  entry: KeyringEntry,
): KeyringModel {
  const next = new Map(model);
  const versions = (model.get(kekName) ?? []).map((v) =>
    v.state === 'primary' ? { ...v, state: 'active' as const } : v,
  );
  next.set(kekName, [...versions, { ...entry, state: 'primary' }]);
  return next;
}

/** A model with the version `tag` of `kekName` disabled. */
export function withDisabled(model: KeyringModel, kekName: KekName, tag: string): KeyringModel {
  const next = new Map(model);
  const versions = (model.get(kekName) ?? []).map((v) =>
    v.tag === tag ? { ...v, state: 'disabled' as const } : v,
  );
  next.set(kekName, versions);
  return next;
}
