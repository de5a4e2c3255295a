/**
 * Helpers of the KekProvider conformance suite: fixtures, expected failures and byte tweaks.
 */
import {
  type DekBinding,
  type KekProvider,
  type KekRef,
  newDekId,
  randomBytes,
  toBase64Url,
  toHex,
} from '@rekey/crypto-core';
import { expect } from 'vitest';

import type { KekProviderFactory } from './describe-kek-provider.ts';

/** What the suite reads of a rekey error (by shape: it may cross module copies). */
export interface RekeyErrorShape {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly kekRef?: string;
  readonly cause?: unknown;
}

/** Runs `body` with a fresh provider, then closes it and cleans up. */
export async function withProvider(
  factory: KekProviderFactory,
  body: (provider: KekProvider) => Promise<void>,
): Promise<void> {
  const fixture = await factory();
  try {
    await body(fixture.provider);
  } finally {
    await fixture.provider.close?.();
    await fixture.cleanup?.();
  }
}

/** A new KEK name with its first version, and a binding to it. */
export async function newKek(provider: KekProvider): Promise<DekBinding> {
  const kekName = `conformance-${toHex(randomBytes(6))}`;
  await provider.rotate(kekName);
  return { dekId: newDekId(), scope: 'tenant-1', kekName };
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<RekeyErrorShape> {
  try {
    await promise;
  } catch (error) {
    expect(typeof (error as RekeyErrorShape | undefined)?.code).toBe('string');
    return error as RekeyErrorShape;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** A ref that differs from `ref` in its last character only. */
export function changeLastCharacter(ref: KekRef): KekRef {
  return ref.slice(0, -1) + (ref.endsWith('9') ? '8' : '9');
}

/** `bytes` followed by `tail`. */
export function concat(bytes: Uint8Array, tail: readonly number[]): Uint8Array {
  const out = new Uint8Array(bytes.length + tail.length);
  out.set(bytes, 0);
  out.set(tail, bytes.length);
  return out;
}

/** Standard base64 (with `+` and `/`) without padding. */
export function b64(bytes: Uint8Array): string {
  return toBase64Url(bytes).replaceAll('-', '+').replaceAll('_', '/');
}

/** Everything an error shows: name, message, code and the same for its causes. */
export function describeError(error: unknown, depth = 0): string {
  if (typeof error !== 'object' || error === null || depth > 4) return String(error);
  const e = error as RekeyErrorShape;
  return `${e.name} ${e.code} ${e.message} ${String(error)} ${describeError(e.cause, depth + 1)}`;
}
