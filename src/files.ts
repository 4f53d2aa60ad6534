import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EcomflowError } from './errors.js';

export interface WriteAtomicallyOptions {
  /** The file's permission bits (the temporary file gets them, so the file never has others). */
  mode?: number;
}

/**
 * Writes a file so that a reader, or the next start after a crash or a power cut, sees the old text or
 * the new, never an empty or torn one: the text goes to a sibling, which is fsynced and then renamed over
 * the file (a rename within a folder is atomic on POSIX), and the folder is fsynced so the rename itself
 * is on disk. Writers of one file must not overlap (each caller serialises its writes).
 */
export async function writeAtomically(
  path: string,
  text: string,
  options: WriteAtomicallyOptions = {},
): Promise<void> {
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, 'w', options.mode ?? 0o666);
  try {
    await handle.writeFile(text);
    // Without it, a crash soon after the rename can leave the new name pointing at an empty file.
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await syncFolder(dirname(path));
}

/** fsyncs a folder, so a rename in it survives a crash. Some systems cannot open a folder for it: skipped. */
async function syncFolder(folder: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(folder, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch (err) {
    // EINVAL/EISDIR/EPERM: the platform (or file system) does not sync folders; the rename is still atomic.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'ENOTSUP') throw err;
  } finally {
    await handle.close();
  }
}

/**
 * A state file (a checkpoint, a manifest) that exists but cannot be read as what it holds. Starting
 * over instead would silently reprocess everything, so it stops whatever reads it, naming the file and
 * what to do.
 */
export class StateFileError extends EcomflowError {
  readonly path: string;
  constructor(path: string, problem: string, remedy: string, options?: ErrorOptions) {
    super('unreadable_state_file', `${path} ${problem}: ${remedy}`, options);
    this.name = 'StateFileError';
    this.path = path;
  }
}

/**
 * Reads a JSON state file: undefined when it does not exist yet, else the value `check` accepts.
 * @param what what the file holds, for the message ("the poller's checkpoints")
 * @param check returns why the parsed value is not what the file should hold, or null when it is
 * @param remedy what a user should do, for the message ("delete it to ...")
 * @throws StateFileError when the file is empty, not JSON, or refused by `check`
 */
export async function readJsonState<T>(
  path: string,
  what: string,
  check: (value: unknown) => string | null,
  remedy: string,
): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(path, `cannot be read (${(err as Error).message})`, remedy, { cause: err });
  }
  if (text.trim() === '') throw new StateFileError(path, `is empty, not ${what}`, remedy);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new StateFileError(path, `is not valid JSON (${(err as Error).message}), not ${what}`, remedy, {
      cause: err,
    });
  }
  const problem = check(value);
  if (problem !== null) throw new StateFileError(path, `${problem}, not ${what}`, remedy);
  return value as T;
}

/** A lock that stayed taken for longer than `waitMs`. */
export class FileLockError extends EcomflowError {
  readonly path: string;
  constructor(path: string, waitMs: number) {
    super('file_locked', `${path}.lock is still held after ${waitMs} ms; remove it if no ecomflow runs`);
    this.name = 'FileLockError';
    this.path = path;
  }
}

export interface FileLockOptions {
  /** How long to wait for the lock. */
  waitMs?: number;
  /** A lock older than this was left by a process that died while holding it, and is taken over. */
  staleMs?: number;
}

/**
 * Runs `work` while holding `<path>.lock`, a folder (mkdir either creates it or fails, atomically, across
 * processes). Two processes that change one file, say one appending and one rewriting it, take the
 * lock around their change, so neither loses the other's. Meant for changes of milliseconds.
 */
export async function withFileLock<T>(
  path: string,
  work: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const lock = `${path}.lock`;
  const waitMs = options.waitMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const started = Date.now();
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const since = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (since > staleMs) await rm(lock, { recursive: true, force: true });
      else if (Date.now() - started > waitMs) throw new FileLockError(path, waitMs);
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
