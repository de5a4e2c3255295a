/**
 * A lock file that serialises the changes of several processes to one private file (a keyring):
 * created exclusively next to it, holding who took it, removed when the change is done. Built on
 * {@link PrivateFileSystem}, so it runs on Node and Deno and tests can inject faults. Internal.
 */
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { kill, pid } from 'node:process';

import { KekUnavailableError, randomBytes, toHex, utf8 } from '@rekey/crypto-core';

import {
  codeOf,
  fileError,
  type PrivateFileSystem,
  readPrivateFile,
  writePrivateFile,
} from './_private-file.ts';

/** How long to wait for a lock and when a lock counts as abandoned. */
export interface FileLockTiming {
  /** Gives up waiting after this many milliseconds. */
  readonly timeoutMs: number;
  /** A lock whose file is older than this is abandoned, whoever holds it. */
  readonly staleAfterMs: number;
}

/** Default wait for a keyring lock: changes take milliseconds, so 10 s means a stuck holder. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** Default age after which a keyring lock is abandoned: far above any change's duration. */
export const DEFAULT_LOCK_STALE_MS = 120_000;

/** Age after which a lock file without a complete owner record is taken to be abandoned. */
const HALF_WRITTEN_MS = 3_000;

const FIRST_DELAY_MS = 5;
const MAX_DELAY_MS = 200;

/** What a lock file holds: who took it and when. Never key material. */
interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly createdAt: string;
  /** Random, so that two locks taken in one millisecond by one process still differ. */
  readonly token: string;
}

/** A lock file as it was read: its owner when it parses, its age and an identity to compare. */
interface HeldLock {
  readonly owner: LockOwner | undefined;
  readonly ageMs: number;
  /** Inode, modification time and text: a new lock at the same path never matches. */
  readonly identity: string;
}

/** The lock file that serialises changes to the private file at `path`. */
export function lockPathOf(path: string): string {
  return `${path}.lock`;
}

/**
 * The bytes of the private file at `path`, created with `initial` when it is missing. Creating
 * takes the file's lock and reads again first, so that a file another process has just made is
 * never replaced by an empty one; an existing file is read without the lock.
 */
export async function readOrCreatePrivateFile(
  fs: PrivateFileSystem,
  path: string,
  initial: string,
  timing: FileLockTiming,
  what?: string,
): Promise<Uint8Array> {
  const bytes = await readPrivateFile(fs, path, what);
  if (bytes !== undefined) return bytes;
  return withFileLock(fs, lockPathOf(path), timing, async () => {
    const created = await readPrivateFile(fs, path, what);
    if (created !== undefined) return created;
    await writePrivateFile(fs, path, initial, what);
    return utf8(initial);
  });
}

/**
 * Runs `work` while holding the lock file `lockPath`, waiting for another holder with a short
 * jittered back-off, and removes the lock afterwards whether `work` succeeded or not.
 *
 * A lock is abandoned, and broken, when its owner process is gone (same host, `kill(pid, 0)`
 * fails with ESRCH) or when it is older than `staleAfterMs`. Breaking takes a second lock
 * (`<lockPath>.break`), so two waiters cannot both remove it and both go ahead.
 *
 * NOTE: a holder that takes longer than `staleAfterMs` can have its lock broken under it; and if
 * a process dies while it holds the brief `.break` lock, two waiters breaking that one at the
 * same instant could both proceed. Both need a stall or crash far outside a change's duration.
 *
 * @param what - names the locked file in messages, for example `keyring file`.
 * @throws {KekUnavailableError} naming the lock path (and its holder) after `timeoutMs`.
 * @throws {ConfigError} when the lock cannot be created (directory missing or not writable).
 */
export async function withFileLock<T>(
  fs: PrivateFileSystem,
  lockPath: string,
  timing: FileLockTiming,
  work: () => Promise<T>,
): Promise<T> {
  const mine = await acquire(fs, lockPath, timing);
  try {
    return await work();
  } finally {
    await removeIfSame(fs, lockPath, mine);
  }
}

async function acquire(
  fs: PrivateFileSystem,
  lockPath: string,
  timing: FileLockTiming,
): Promise<string> {
  const deadline = Date.now() + timing.timeoutMs;
  let delay = FIRST_DELAY_MS;
  for (;;) {
    const mine = await tryCreate(fs, lockPath);
    if (mine !== undefined) return mine;

    const held = await inspect(fs, lockPath);
    if (held === undefined) continue;
    const abandoned = isAbandoned(held, timing.staleAfterMs);
    if (abandoned && (await breakAbandoned(fs, lockPath, held, timing.staleAfterMs))) continue;
    if (Date.now() >= deadline) throw timeoutError(lockPath, held, timing.timeoutMs);

    // Jitter keeps waiters that collided once from colliding again in step.
    await sleep(Math.min(delay * (0.5 + Math.random()), deadline - Date.now()));
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

/** Creates the lock file exclusively; its identity, or `undefined` when it already exists. */
async function tryCreate(fs: PrivateFileSystem, lockPath: string): Promise<string | undefined> {
  const owner: LockOwner = {
    pid,
    host: hostName() ?? '',
    createdAt: new Date().toISOString(),
    token: toHex(randomBytes(8)),
  };
  const text = JSON.stringify(owner);
  let handle: FileHandle;
  try {
    handle = await fs.open(lockPath, 'wx', 0o600);
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return undefined;
    throw fileError(`cannot create lock file ${lockPath}`, error);
  }
  let identity: string;
  try {
    await handle.writeFile(utf8(text));
    identity = identityOf(await handle.stat(), text);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.unlink(lockPath).catch(() => undefined);
    throw fileError(`cannot write lock file ${lockPath}`, error);
  }
  await handle.close();
  return identity;
}

/** The lock file as it is now, or `undefined` when it is gone. */
async function inspect(fs: PrivateFileSystem, lockPath: string): Promise<HeldLock | undefined> {
  let handle: FileHandle;
  try {
    handle = await fs.open(lockPath, 'r');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw fileError(`cannot read lock file ${lockPath}`, error);
  }
  try {
    const stats = await handle.stat();
    const text = new TextDecoder().decode(await handle.readFile());
    return {
      owner: parseOwner(text),
      ageMs: Date.now() - stats.mtimeMs,
      identity: identityOf(stats, text),
    };
  } catch (error) {
    throw fileError(`cannot read lock file ${lockPath}`, error);
  } finally {
    await handle.close();
  }
}

function isAbandoned(held: HeldLock, staleAfterMs: number): boolean {
  if (held.ageMs > staleAfterMs) return true;
  const owner = held.owner;
  // Empty or half written: its holder is between creating and writing it, which takes
  // milliseconds. Still so after a few seconds, it was killed in between.
  if (owner === undefined) return held.ageMs > Math.min(HALF_WRITTEN_MS, staleAfterMs);
  // A pid means something only on the host that wrote it; an unknown host matches none.
  if (owner.host === '' || owner.host !== hostName()) return false;
  try {
    kill(owner.pid, 0);
    return false;
  } catch (error) {
    // EPERM: alive under another user. Anything else (no permission to ask, as under a
    // restricted Deno): the owner is presumed alive and only age breaks the lock.
    return codeOf(error) === 'ESRCH';
  }
}

/**
 * Removes an abandoned lock, unless another waiter is doing so or already did. True when the
 * lock is gone and taking it may be tried again at once.
 */
async function breakAbandoned(
  fs: PrivateFileSystem,
  lockPath: string,
  held: HeldLock,
  staleAfterMs: number,
): Promise<boolean> {
  const breakPath = `${lockPath}.break`;
  const breaking = await tryCreate(fs, breakPath);
  if (breaking === undefined) {
    // Another waiter is breaking it; its `.break` lock is abandoned only if it died meanwhile.
    const other = await inspect(fs, breakPath);
    if (other !== undefined && isAbandoned(other, staleAfterMs)) {
      return removeIfSame(fs, breakPath, other.identity);
    }
    return false;
  }

  try {
    // Only the lock judged abandoned goes: one taken since then by someone else stays.
    return await removeIfSame(fs, lockPath, held.identity);
  } finally {
    await removeIfSame(fs, breakPath, breaking);
  }
}

/** Removes the lock file at `path` if it is still the one with `identity`; true if it is gone. */
async function removeIfSame(
  fs: PrivateFileSystem,
  path: string,
  identity: string,
): Promise<boolean> {
  const now = await inspect(fs, path).catch(() => undefined);
  if (now === undefined) return true;
  if (now.identity !== identity) return false;
  return fs.unlink(path).then(
    () => true,
    (error) => codeOf(error) === 'ENOENT',
  );
}

function identityOf(stats: { ino: number; mtimeMs: number }, text: string): string {
  return `${stats.ino}:${stats.mtimeMs}:${text}`;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner> | null;
    if (typeof value?.pid !== 'number' || typeof value.host !== 'string') return undefined;
    return value as LockOwner;
  } catch {
    // Empty or half written: its holder is between creating and writing it.
    return undefined;
  }
}

function timeoutError(lockPath: string, held: HeldLock, timeoutMs: number): KekUnavailableError {
  const owner = held.owner;
  const by = owner === undefined ? '' : ` by pid ${owner.pid} on ${owner.host}`;
  return new KekUnavailableError(
    `lock file ${lockPath} is held${by}; gave up waiting after ${timeoutMs} ms`,
  );
}

/** The host name, or `undefined` where the runtime may not read it (Deno without --allow-sys). */
function hostName(): string | undefined {
  try {
    return hostname();
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
