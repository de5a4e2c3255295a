/**
 * The dashboard's own settings, from the environment: where to listen, the public origin, the
 * access tokens and the worker configuration to read (`REKEY_CONFIG`, as the worker).
 */
import { ConfigError } from '@rekey/crypto-core';

import { type AccessTokens, tokensFromEnv } from './auth/tokens.ts';

/** Settings of a dashboard process. */
export interface DashboardSettings {
  readonly host: string;
  readonly port: number;
  readonly publicOrigin: string | undefined;
  readonly secureCookies: boolean | undefined;
  readonly configPath: string | undefined;
  readonly tokens: AccessTokens;
}

/**
 * Reads `REKEY_DASHBOARD_HOST` (default `127.0.0.1`), `REKEY_DASHBOARD_PORT` (default 8080),
 * `REKEY_DASHBOARD_ORIGIN`, `REKEY_DASHBOARD_SECURE_COOKIES` (`true`/`false`), `REKEY_CONFIG`
 * and the tokens (see `tokensFromEnv`).
 *
 * @throws {ConfigError} naming the variable that is wrong.
 */
export function settingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): DashboardSettings {
  const port = Number(env.REKEY_DASHBOARD_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('REKEY_DASHBOARD_PORT expected a port number');
  }
  const origin = env.REKEY_DASHBOARD_ORIGIN;
  if (origin !== undefined && origin !== '') {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError('REKEY_DASHBOARD_ORIGIN expected an origin like https://rekey.example');
    }
    if (parsed.origin !== origin) {
      throw new ConfigError('REKEY_DASHBOARD_ORIGIN expected an origin without a path');
    }
  }
  const secure = env.REKEY_DASHBOARD_SECURE_COOKIES;
  return {
    host: env.REKEY_DASHBOARD_HOST ?? '127.0.0.1',
    port,
    publicOrigin: origin === '' ? undefined : origin,
    secureCookies: secure === undefined ? undefined : secure === 'true',
    configPath: env.REKEY_CONFIG,
    tokens: tokensFromEnv(env),
  };
}

/** One JSON log line on stdout: apps log structured events, one per line. */
export function logLine(entry: Record<string, unknown>): void {
  console.log(
    JSON.stringify({ time: new Date().toISOString(), service: 'rekey-dashboard', ...entry }),
  );
}
