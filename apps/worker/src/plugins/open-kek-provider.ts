/**
 * KekProvider plugins picked by name: `local`, `platform-secret`, `aws-kms`, `pkcs11`, `memory`,
 * or a module specifier whose `createKekProvider` export builds the provider.
 */
import { isAbsolute, resolve } from 'node:path';

import type { KekProvider } from '@rekey/crypto-core';

import { Secret } from '../config/secret.ts';
import type { KekConfig } from '../config/worker-config.ts';
import { importPlugin } from './open-dek-store.ts';

/** The export a third-party KekProvider plugin module provides. */
export interface KekProviderPlugin {
  createKekProvider(options: {
    readonly kekName: string;
    /** Settings with `{env}`/`{file}` references resolved to their values. */
    readonly settings: Readonly<Record<string, unknown>>;
    readonly baseDir: string;
  }): KekProvider | Promise<KekProvider>;
}

/** Settings with secrets revealed, for handing to the provider that needs them. */
function plainSettings(settings: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) out[k] = v instanceof Secret ? v.reveal() : v;
  return out;
}

/**
 * Opens the provider of one configured KEK name.
 *
 * @throws {ConfigError} when a plugin module cannot be loaded.
 */
export async function openKekProvider(kek: KekConfig, baseDir: string): Promise<KekProvider> {
  const settings = plainSettings(kek.settings);
  const path = (value: unknown, fallback: string): string => {
    const p = typeof value === 'string' ? value : fallback;
    return isAbsolute(p) ? p : resolve(baseDir, p);
  };
  switch (kek.provider) {
    case 'local': {
      const { LocalKekProvider } = await import('@rekey/kek-providers/local');
      return LocalKekProvider.open({ path: path(settings.path, 'rekey-keyring.json') });
    }
    case 'aws-kms': {
      const { AwsKmsKekProvider } = await import('@rekey/kek-providers/aws-kms');
      const credentials =
        typeof settings.accessKeyId === 'string' && typeof settings.secretAccessKey === 'string'
          ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
          : undefined;
      return new AwsKmsKekProvider({
        ...(typeof settings.region === 'string' ? { region: settings.region } : {}),
        ...(typeof settings.endpoint === 'string' ? { endpoint: settings.endpoint } : {}),
        ...(typeof settings.aliasPrefix === 'string' ? { aliasPrefix: settings.aliasPrefix } : {}),
        ...(credentials === undefined ? {} : { credentials }),
      });
    }
    case 'platform-secret': {
      const { PlatformSecretKekProvider } = await import('@rekey/kek-providers/platform-secret');
      // NOTE: settings are handed over as they are; the provider validates them.
      return PlatformSecretKekProvider.open(settings as never);
    }
    case 'pkcs11': {
      const { openPkcs11KekProvider } = await import('@rekey/kek-providers/pkcs11');
      return (openPkcs11KekProvider as (o: unknown) => Promise<KekProvider>)(settings);
    }
    case 'memory': {
      const { MemoryKekProvider } = await import('@rekey/kek-providers/memory');
      return new MemoryKekProvider({ initialKeks: [kek.name] });
    }
    default: {
      const plugin = await importPlugin<KekProviderPlugin>(kek.provider, 'createKekProvider');
      return plugin.createKekProvider({ kekName: kek.name, settings, baseDir });
    }
  }
}
