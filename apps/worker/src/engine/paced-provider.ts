/**
 * A KekProvider whose every call first takes tokens from the shared request pacer, for the
 * run steps (prepare, verify, retire) outside the batched rewrap path. A control call may make
 * several requests to the KEK's home (list aliases, describe each key): it is charged an
 * estimate, erring high, since these calls are few.
 */
import type { KekProvider } from '@rekey/crypto-core';

import type { RequestPacer } from './rate-limiter.ts';

/** Requests charged per call. */
export const REQUEST_ESTIMATE = {
  wrap: 1,
  unwrap: 1,
  rewrap: 1,
  primary: 2,
  describe: 5,
  rotate: 8,
  disable: 3,
} as const;

/** `provider` with every call paced by `pacer`. */
export function pacedProvider(provider: KekProvider, pacer: RequestPacer): KekProvider {
  const take = (n: number): Promise<void> => pacer.acquire(n);
  const paced: KekProvider = {
    id: provider.id,
    wrap: async (dek, binding, target) => {
      await take(REQUEST_ESTIMATE.wrap);
      return provider.wrap(dek, binding, target);
    },
    unwrap: async (wrapped, binding) => {
      await take(REQUEST_ESTIMATE.unwrap);
      return provider.unwrap(wrapped, binding);
    },
    primary: async (kekName) => {
      await take(REQUEST_ESTIMATE.primary);
      return provider.primary(kekName);
    },
    describe: async (kekName) => {
      await take(REQUEST_ESTIMATE.describe);
      return provider.describe(kekName);
    },
    rotate: async (kekName) => {
      await take(REQUEST_ESTIMATE.rotate);
      return provider.rotate(kekName);
    },
    disable: async (ref) => {
      await take(REQUEST_ESTIMATE.disable);
      return provider.disable(ref);
    },
  };
  const rewrap = provider.rewrap?.bind(provider);
  if (rewrap !== undefined) {
    paced.rewrap = async (wrapped, binding, target) => {
      await take(REQUEST_ESTIMATE.rewrap);
      return rewrap(wrapped, binding, target);
    };
  }
  return paced;
}
