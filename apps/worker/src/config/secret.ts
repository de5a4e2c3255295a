/**
 * Secrets read from environment variables or files. A `Secret` never prints its value: not in
 * `String()`, JSON, `util.inspect` or pino output. Code that needs the value calls `reveal()`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspect } from 'node:util';

/** A reference to a secret in the configuration file. */
export type SecretRef = { readonly env: string } | { readonly file: string };

/** A resolved secret value that redacts itself everywhere it could be printed. */
export class Secret {
  readonly #value: string;
  /** Where the value came from (`env:NAME` or `file:PATH`), safe to print. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  /** The secret value. Never log it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return `[secret ${this.source}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** True when `value` is `{ env }` or `{ file }`. */
export function isSecretRef(value: unknown): value is SecretRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const v = value as Record<string, unknown>;
  return typeof v.env === 'string' || typeof v.file === 'string';
}

/**
 * Reads a secret reference. Returns a problem message instead of throwing so that config
 * validation can list every problem at once. File contents lose one trailing newline.
 */
export function readSecret(
  ref: SecretRef,
  env: NodeJS.ProcessEnv,
  baseDir: string,
): Secret | { problem: string } {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') {
      return { problem: `environment variable ${ref.env} is not set` };
    }
    return new Secret(value, `env:${ref.env}`);
  }
  const path = resolve(baseDir, ref.file);
  try {
    return new Secret(readFileSync(path, 'utf8').replace(/\r?\n$/, ''), `file:${ref.file}`);
  } catch {
    return { problem: `secret file ${ref.file} cannot be read` };
  }
}
