/**
 * The two access tokens, viewer and operator, read from the environment or from files, and the
 * constant-time check of a presented token against them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { ConfigError } from '@rekey/crypto-core';

/** What a caller may do: viewers read, operators read and act. */
export type Role = 'viewer' | 'operator';

/** Shortest token accepted: anything shorter is guessable. */
const MIN_TOKEN_LENGTH = 16;

/** The configured tokens, kept only as SHA-256 digests. */
export class AccessTokens {
  readonly #viewer: Uint8Array | undefined;
  readonly #operator: Uint8Array;

  /**
   * @throws {ConfigError} when the operator token is missing or a token is too short.
   */
  constructor(tokens: { viewer?: string; operator: string }) {
    for (const [name, value] of Object.entries(tokens)) {
      if (value !== undefined && value.length < MIN_TOKEN_LENGTH) {
        throw new ConfigError(`${name} token expected at least ${MIN_TOKEN_LENGTH} characters`);
      }
    }
    if (tokens.viewer !== undefined && tokens.viewer === tokens.operator) {
      throw new ConfigError('viewer and operator tokens must differ');
    }
    this.#viewer = tokens.viewer === undefined ? undefined : digest(tokens.viewer);
    this.#operator = digest(tokens.operator);
  }

  /**
   * The role of a presented token, or `undefined`. Both digests are always compared, in
   * constant time, so the answer's timing says nothing about either token.
   */
  roleOf(presented: string): Role | undefined {
    const d = digest(presented);
    const operator = timingSafeEqual(d, this.#operator);
    const viewer = this.#viewer !== undefined && timingSafeEqual(d, this.#viewer);
    if (operator) return 'operator';
    return viewer ? 'viewer' : undefined;
  }
}

function digest(token: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(token, 'utf8').digest());
}

/**
 * Reads the tokens from `REKEY_DASHBOARD_OPERATOR_TOKEN` / `REKEY_DASHBOARD_VIEWER_TOKEN` or
 * from the files named by `..._TOKEN_FILE` (one trailing newline dropped).
 *
 * @throws {ConfigError} when the operator token is not configured or a file cannot be read.
 */
export function tokensFromEnv(env: Readonly<Record<string, string | undefined>>): AccessTokens {
  const read = (name: string): string | undefined => {
    const direct = env[`REKEY_DASHBOARD_${name}_TOKEN`];
    if (direct !== undefined && direct !== '') return direct;
    const file = env[`REKEY_DASHBOARD_${name}_TOKEN_FILE`];
    if (file === undefined || file === '') return undefined;
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new ConfigError(`REKEY_DASHBOARD_${name}_TOKEN_FILE cannot be read`, { cause: error });
    }
  };
  const operator = read('OPERATOR');
  if (operator === undefined) {
    throw new ConfigError('REKEY_DASHBOARD_OPERATOR_TOKEN or its _FILE is required');
  }
  const viewer = read('VIEWER');
  return new AccessTokens({ operator, ...(viewer === undefined ? {} : { viewer }) });
}
