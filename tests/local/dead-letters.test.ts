/**
 * The local dead-letter file as a redrive source: it lists the letters once, deletes exactly the one
 * redriven, and never loses a letter the poller appends while a redrive rewrites the file.
 */
import { appendFile, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLockError, withFileLock } from '../../src/files.js';
import { deadLetterFileSource } from '../../src/local/dead-letters.js';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecomflow-dead-letters-'));
  file = join(dir, 'dead-letter.ndjson');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const letter = (n: number) => JSON.stringify({ KinesisBatchInfo: { startSequenceNumber: String(n) } });

/** How the poller appends a letter (src/local/kinesis-poller.ts). */
const pollerAppend = (line: string) => withFileLock(file, () => appendFile(file, `${line}\n`));

async function lines(): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
}

describe('the dead-letter file source', () => {
  it('lists each letter once, named by its line, then has no more', async () => {
    // Prepare
    await writeFile(file, `${letter(1)}\n\n${letter(2)}\n`);
    const source = deadLetterFileSource(file);

    // Act
    const first = await source.receive();
    const second = await source.receive();

    // Assess
    expect(first).toEqual([
      { id: 'dead-letter.ndjson:1', body: letter(1) },
      { id: 'dead-letter.ndjson:3', body: letter(2) },
    ]);
    expect(second).toEqual([]);
  });

  it('has no letters when the poller never wrote the file', async () => {
    expect(await deadLetterFileSource(file).receive()).toEqual([]);
  });

  it('deletes exactly the letter redriven, and keeps one appended after the file was read', async () => {
    // Prepare
    await writeFile(file, `${letter(1)}\n${letter(2)}\n${letter(3)}\n`);
    const source = deadLetterFileSource(file);
    const [, second] = await source.receive();
    await pollerAppend(letter(4));

    // Act
    await source.delete(second!);

    // Assess
    expect(await lines()).toEqual([letter(1), letter(3), letter(4)]);
  });

  it('loses none of the letters the poller appends while deletes rewrite the file', async () => {
    // Prepare
    const initial = Array.from({ length: 30 }, (_, i) => letter(i));
    await writeFile(file, `${initial.join('\n')}\n`);
    const source = deadLetterFileSource(file);
    const received = await source.receive();
    const appended = Array.from({ length: 30 }, (_, i) => letter(100 + i));

    // Act: every delete and every append at once.
    await Promise.all([...received.map((m) => source.delete(m)), ...appended.map(pollerAppend)]);

    // Assess
    expect((await lines()).sort()).toEqual([...appended].sort());
  });

  it('takes over a lock left by a process that died holding it, and waits for one that is held', async () => {
    // Prepare: a stale lock, a minute old.
    await mkdir(`${file}.lock`);
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(`${file}.lock`, minuteAgo, minuteAgo);

    // Act
    await pollerAppend(letter(1));
    await mkdir(`${file}.lock`);
    const held = withFileLock(file, async () => undefined, { waitMs: 50 });

    // Assess
    expect(await lines()).toEqual([letter(1)]);
    await expect(held).rejects.toBeInstanceOf(FileLockError);
  });
});
