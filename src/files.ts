import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { EcomflowError } from './errors.js';

/**
 * Writes a file so that a reader sees the old text or the new, never a torn one: the text goes to a
 * sibling, which is then renamed over the file (a rename within a folder is atomic on POSIX).
 */
export async function writeAtomically(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
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
