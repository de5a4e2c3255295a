/**
 * Reading and atomically replacing small private files (keyrings, state files) with
 * `node:fs/promises`, which Node and Deno both provide. With `_file-lock.ts`, the only
 * file-system code of this package; providers take a {@link PrivateFileSystem} so tests can
 * inject faults. Internal.
 */
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { ConfigError, KekUnavailableError, randomBytes, toHex } from '@rekey/crypto-core';

/** The subset of `node:fs/promises` these helpers use. Inject another to simulate crashes. */
export interface PrivateFileSystem {
  open(path: string, flags: string, mode?: number): Promise<fsp.FileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

/** The real file system. */
export const nodeFileSystem: PrivateFileSystem = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
};

/** Permission bits a private file must not have: any access for group or others. */
const GROUP_OR_OTHER = 0o077;

/**
 * The bytes of a private file, or `undefined` when it does not exist.
 *
 * @param what - names the file in messages, for example `keyring file`.
 * @throws {ConfigError} naming the path and mode when group or others may access the file.
 * @throws {KekUnavailableError} when the file cannot be read.
 */
export async function readPrivateFile(
  fs: PrivateFileSystem,
  path: string,
  what = 'keyring file',
): Promise<Uint8Array | undefined> {
  let handle: fsp.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw fileError(`cannot read ${what} ${path}`, error);
  }
  try {
    // The mode of the open handle, not of the path: nothing can swap the file in between.
    const { mode } = await handle.stat();
    if ((mode & GROUP_OR_OTHER) !== 0) {
      const octal = (mode & 0o777).toString(8).padStart(4, '0');
      throw new ConfigError(
        `${what} ${path} has mode ${octal}; expected 0600 (no access for group or others)`,
      );
    }
    return new Uint8Array(await handle.readFile());
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw fileError(`cannot read ${what} ${path}`, error);
  } finally {
    await handle.close();
  }
}

/**
 * Replaces a file atomically with mode 0600: writes a temporary file in the same directory,
 * fsyncs it, renames it over the target and fsyncs the directory. A crash at any point leaves
 * either the old file or the new one, never a mix.
 *
 * NOTE: when `path` is a symbolic link, the rename replaces the link with a regular file; the
 * link's target is left as it was. Point the provider at the real file.
 *
 * @throws {ConfigError} when the directory is not writable.
 * @throws {KekUnavailableError} when writing fails for another reason.
 */
export async function writePrivateFile(
  fs: PrivateFileSystem,
  path: string,
  text: string,
  what = 'keyring file',
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${toHex(randomBytes(6))}.tmp`);
  try {
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text, { encoding: 'utf8' });
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, path);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw fileError(`cannot write ${what} ${path}`, error);
  }
  await syncDirectory(fs, dir, what);
}

/** Makes a rename durable (POSIX): fsync of the directory that holds the entry. */
async function syncDirectory(fs: PrivateFileSystem, dir: string, what: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // NOTE: some platforms (Windows) cannot open or fsync a directory. The rename is then as
    // durable as the platform makes it; the file itself was fsynced before the rename.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'ENOTSUP'].includes(codeOf(error) ?? '')) {
      throw fileError(`cannot sync the directory of ${what} ${dir}`, error);
    }
  } finally {
    await handle?.close();
  }
}

/** A `ConfigError` for problems an operator must fix, else a retryable `KekUnavailableError`. */
export function fileError(action: string, error: unknown): Error {
  const code = codeOf(error) ?? 'unknown error';
  const message = `${action}: ${code}`;
  // A permission problem or a missing directory needs an operator; a full disk or EIO may pass.
  if (['EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOTDIR', 'ENOENT'].includes(code)) {
    return new ConfigError(message, { cause: error });
  }
  return new KekUnavailableError(message, { cause: error });
}

/** The `code` of a file-system error (`ENOENT`, `EEXIST`), if it has one. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
