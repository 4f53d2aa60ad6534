/**
 * The state-file helpers: an atomic replace (a rename of a synced sibling, never a rewrite in place) and
 * a reader that tells "no file yet" from "a file that cannot be read".
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonState, StateFileError, writeAtomically } from '../src/files.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecomflow-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const isObject = (value: unknown) => (typeof value === 'object' && value !== null ? null : 'not an object');

describe('writeAtomically', () => {
  it('replaces the file by a rename: a new inode, the new text, no temporary file left', async () => {
    // Prepare
    const file = join(dir, 'state.json');
    await writeFile(file, '{"old":true}');
    const before = await stat(file);

    // Act
    await writeAtomically(file, '{"new":true}');

    // Assess
    expect((await stat(file)).ino).not.toBe(before.ino);
    expect(await readFile(file, 'utf8')).toBe('{"new":true}');
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('writes over a temporary file that a crash left behind', async () => {
    // Prepare
    const file = join(dir, 'state.json');
    await writeFile(`${file}.tmp`, '{"torn');

    // Act
    await writeAtomically(file, '{"n":1}');

    // Assess
    expect(await readFile(file, 'utf8')).toBe('{"n":1}');
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('gives a new file the mode asked for', async () => {
    // Prepare
    const file = join(dir, 'secret');

    // Act
    await writeAtomically(file, 'key\n', { mode: 0o600 });

    // Assess
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});

describe('readJsonState', () => {
  it('is undefined when the file does not exist', async () => {
    // Act
    const value = await readJsonState(join(dir, 'none.json'), 'a state', isObject, 'delete it');

    // Assess
    expect(value).toBeUndefined();
  });

  it('is the parsed value when the check accepts it', async () => {
    // Prepare
    const file = join(dir, 'state.json');
    await writeFile(file, '{"a":"1"}');

    // Act
    const value = await readJsonState(file, 'a state', isObject, 'delete it');

    // Assess
    expect(value).toEqual({ a: '1' });
  });

  it.each([
    ['empty', '', `is empty, not a state: delete it`],
    ['torn', '{"a":', 'is not valid JSON'],
    ['refused by the check', '7', 'not an object, not a state: delete it'],
  ])('throws a StateFileError naming the file when it is %s', async (_, text, message) => {
    // Prepare
    const file = join(dir, 'state.json');
    await writeFile(file, text);

    // Act
    const read = readJsonState(file, 'a state', isObject, 'delete it');

    // Assess
    await expect(read).rejects.toThrow(StateFileError);
    await expect(read).rejects.toThrow(`${file} `);
    await expect(read).rejects.toThrow(message);
  });

  it('throws a StateFileError naming the file when it cannot be read at all', async () => {
    // Prepare: a folder where the file should be.
    const file = join(dir, 'state.json');
    await mkdir(file);

    // Act
    const read = readJsonState(file, 'a state', isObject, 'delete it');

    // Assess
    await expect(read).rejects.toThrow(StateFileError);
    await expect(read).rejects.toThrow(`${file} cannot be read`);
  });
});
