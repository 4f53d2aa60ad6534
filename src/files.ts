import { rename, writeFile } from 'node:fs/promises';

/**
 * Writes a file so that a reader sees the old text or the new, never a torn one: the text goes to a
 * sibling, which is then renamed over the file (a rename within a folder is atomic on POSIX).
 */
export async function writeAtomically(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}
