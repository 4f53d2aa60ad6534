import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { STATE_FILE_MODE } from '../config/local.js';
import { withFileLock, writeAtomically } from '../files.js';
import type { DlqMessage, DlqSource } from '../stream/redrive.js';

/** The dead-letter file in the state folder, where the local poller puts what AWS sends to the DLQ. */
export const DEAD_LETTER_FILE = 'dead-letter.ndjson';

/**
 * The local poller's dead-letter file (one on-failure invocation record a line) as a redrive source.
 *
 * The stack may be running, its poller appending letters while the redrive deletes some. Both take the
 * file's lock (withFileLock) around their change: the poller around its append, this source around each
 * read and each delete, which re-reads the file, drops the one line deleted, and writes the rest
 * atomically (writeAtomically). So a letter appended during a redrive is kept; it is not redriven in
 * this run (`receive` reads the file once), but by the next one.
 */
export function deadLetterFileSource(file: string): DlqSource {
  let received = false;
  return {
    async receive(): Promise<DlqMessage[]> {
      if (received) return [];
      received = true;
      const text = await withFileLock(file, () => readText(file));
      const name = basename(file);
      return text
        .split('\n')
        .flatMap((line, index) => (line.trim() === '' ? [] : [{ id: `${name}:${index + 1}`, body: line }]));
    },
    async delete(message: DlqMessage): Promise<void> {
      await withFileLock(file, async () => {
        const lines = (await readText(file)).split('\n');
        const at = lines.indexOf(message.body);
        // Already gone (deleted by hand, or by another redrive): nothing to do.
        if (at === -1) return;
        lines.splice(at, 1);
        await writeAtomically(file, lines.join('\n'), { mode: STATE_FILE_MODE });
      });
    },
  };
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}
