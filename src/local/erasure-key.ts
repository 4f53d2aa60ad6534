import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_FILE_MODE } from '../config/local.js';
import { ERASURE_KEY_MIN_BYTES, newErasureKey } from '../core/erasure.js';
import { StateFileError } from '../files.js';

/** The local stack's erasure key, in its state folder (on AWS it is a Secrets Manager secret, resources/erasure.yml). */
export const ERASURE_KEY_FILE = 'erasure-key';

/**
 * The local erasure key: read from `<home>/erasure-key`, or made once (32 random bytes, base64url, mode
 * 0600). Created with O_EXCL, so two erasures starting at once cannot each make a key and leave records
 * hashed under one that is lost.
 * @throws StateFileError when the file exists but does not hold a key
 */
export async function loadOrCreateErasureKey(home: string): Promise<Buffer> {
  const file = join(home, ERASURE_KEY_FILE);
  try {
    const handle = await open(file, 'wx', STATE_FILE_MODE);
    try {
      const key = newErasureKey();
      await handle.writeFile(`${key.toString('base64url')}\n`);
      await handle.sync();
      return key;
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
  if (key.byteLength < ERASURE_KEY_MIN_BYTES) {
    throw new StateFileError(
      file,
      `holds ${key.byteLength} bytes, not an erasure key of ${ERASURE_KEY_MIN_BYTES}`,
      'restore it from a backup (the hashes of past erasure records need it); delete it only to start a new key',
    );
  }
  return key;
}
