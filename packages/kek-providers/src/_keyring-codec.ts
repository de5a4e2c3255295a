/**
 * The JSON form of a keyring, schema version 1, shared by the local keyring file (versions hold
 * key material) and the platform-secret state file (versions hold HKDF labels):
 *
 * ```json
 * { "version": 1,
 *   "keks": { "pii": [ { "version": 1, "createdAt": "2026-01-05T10:00:00.000Z",
 *                        "state": "active", "key": "<32 bytes, base64url>" },
 *                      { "version": 2, "createdAt": "...", "state": "primary", "key": "..." } ] } }
 * ```
 *
 * A platform-secret state file has `"label": "<label>"` in place of `version` and `key`.
 * Internal to this package.
 */
import { ConfigError, fromBase64Url, type KekVersionState, toBase64Url } from '@rekey/crypto-core';

import { KEK_NAME } from './_checks.ts';
import type { KeyringEntry, KeyringModel } from './_keyring-model.ts';

/** Which kind of version a keyring holds: key material (`local`) or labels (`platform-secret`). */
export type KeyringKind = 'key' | 'label';

const SCHEMA_VERSION = 1;
/** Labels become part of refs and HKDF info: no `/`, no spaces. */
export const LABEL: RegExp = /^[A-Za-z0-9._-]{1,64}$/;
const STATES: readonly KekVersionState[] = ['primary', 'active', 'disabled'];

/**
 * Parses and validates a keyring. Messages name the source and the field, never a value.
 *
 * @throws {ConfigError} when the text is not a valid keyring of schema version 1.
 */
export function parseKeyring(text: string, kind: KeyringKind, source: string): KeyringModel {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`keyring ${source}: expected JSON`);
  }
  const fail = (field: string, expected: string): never => {
    throw new ConfigError(`keyring ${source}: "${field}" expected ${expected}`);
  };
  if (!isObject(json)) return fail('(root)', 'an object');
  if (json.version !== SCHEMA_VERSION) return fail('version', `${SCHEMA_VERSION}`);
  if (!isObject(json.keks)) return fail('keks', 'an object');

  const model = new Map<string, readonly KeyringEntry[]>();
  for (const [kekName, list] of Object.entries(json.keks)) {
    const at = `keks.${KEK_NAME.test(kekName) ? kekName : '?'}`;
    if (!KEK_NAME.test(kekName)) fail(at, 'a kek name of A-Z, a-z, 0-9, "_" or "-"');
    if (!Array.isArray(list) || list.length === 0) fail(at, 'a non-empty array');
    const entries = (list as unknown[]).map((raw, i) => parseEntry(raw, kind, `${at}[${i}]`, fail));
    checkVersions(entries, kind, at, fail);
    model.set(kekName, entries);
  }
  return model;
}

/** The JSON text of a keyring, stable key order, ending with a newline. */
export function serializeKeyring(model: KeyringModel, kind: KeyringKind): string {
  const keks: Record<string, unknown[]> = {};
  for (const [kekName, entries] of model) {
    keks[kekName] = entries.map((e) =>
      kind === 'key'
        ? {
            version: Number(e.tag.slice(1)),
            createdAt: e.createdAt.toISOString(),
            state: e.state,
            key: toBase64Url(e.key ?? new Uint8Array()),
          }
        : { label: e.tag, createdAt: e.createdAt.toISOString(), state: e.state },
    );
  }
  return `${JSON.stringify({ version: SCHEMA_VERSION, keks }, null, 2)}\n`;
}

type Fail = (field: string, expected: string) => never;

function parseEntry(raw: unknown, kind: KeyringKind, at: string, fail: Fail): KeyringEntry {
  if (!isObject(raw)) return fail(at, 'an object');
  const createdAt = typeof raw.createdAt === 'string' ? new Date(raw.createdAt) : undefined;
  if (createdAt === undefined || Number.isNaN(createdAt.getTime())) {
    fail(`${at}.createdAt`, 'an ISO 8601 date');
  }
  if (!STATES.includes(raw.state as KekVersionState)) {
    fail(`${at}.state`, '"primary", "active" or "disabled"');
  }
  const state = raw.state as KekVersionState;

  if (kind === 'label') {
    if (typeof raw.label !== 'string' || !LABEL.test(raw.label)) {
      fail(`${at}.label`, '1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"');
    }
    return { tag: raw.label as string, createdAt: createdAt as Date, state };
  }
  if (!Number.isSafeInteger(raw.version) || (raw.version as number) < 1) {
    fail(`${at}.version`, 'a positive integer');
  }
  const key = typeof raw.key === 'string' ? fromBase64Url(raw.key) : undefined;
  if (key?.length !== 32) fail(`${at}.key`, '32 bytes in base64url');
  return { tag: `v${raw.version}`, createdAt: createdAt as Date, state, key };
}

function checkVersions(entries: KeyringEntry[], kind: KeyringKind, at: string, fail: Fail) {
  const primaries = entries.filter((e) => e.state === 'primary').length;
  if (primaries !== 1) fail(at, 'exactly one version in state "primary"');
  const tags = new Set(entries.map((e) => e.tag));
  if (tags.size !== entries.length) fail(at, `distinct ${kind === 'key' ? 'versions' : 'labels'}`);
  if (kind === 'key') {
    const numbers = entries.map((e) => Number(e.tag.slice(1)));
    if (numbers.some((n, i) => i > 0 && n <= (numbers[i - 1] as number))) {
      fail(at, 'versions in increasing order');
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
