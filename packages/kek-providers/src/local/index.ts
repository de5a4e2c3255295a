/**
 * @module
 * `@rekey/kek-providers/local`: KEKs in a private keyring file (or a read-only environment
 * variable), DEKs wrapped in process with AES-256-GCM. Runs on Node and Deno.
 */

export type { PrivateFileSystem } from '../_private-file.ts';
export {
  DEFAULT_KEYRING_VARIABLE,
  LocalKekProvider,
  type LocalKekProviderOptions,
} from './local-kek-provider.ts';
