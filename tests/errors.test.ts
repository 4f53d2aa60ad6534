/**
 * Every error ecomflow throws on purpose descends from EcomflowError, so the CLI and the handlers can tell
 * ours from a bug without listing classes. The classes are found in the source text, so a new module's
 * error class cannot be forgotten.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, UsageError } from '../src/cli/errors.js';
import { EcomflowError } from '../src/errors.js';

const SRC = join(import.meta.dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** `class X extends Y` across src/: each error class's parent. */
function errorClassParents(): Map<string, string> {
  const parents = new Map<string, string>();
  for (const file of sourceFiles(SRC)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/class (\w+Error) extends (\w+)/g)) {
      parents.set(m[1]!, m[2]!);
    }
  }
  return parents;
}

describe('EcomflowError', () => {
  it('is the root of every error class in src/', () => {
    // Prepare
    const parents = errorClassParents();
    const rootOf = (name: string): string => {
      const parent = parents.get(name);
      return parent === undefined || name === 'EcomflowError' ? name : rootOf(parent);
    };
    // Act
    const roots = [...parents.keys()].map((name) => [name, rootOf(name)]);
    // Assess
    expect(parents.size).toBeGreaterThan(20);
    expect(roots.filter(([, root]) => root !== 'EcomflowError')).toEqual([]);
  });

  it('carries a code, a message and a cause', () => {
    const cause = new Error('socket hang up');
    const error = new EcomflowError('some_code', 'what went wrong', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'some_code', message: 'what went wrong', cause });
  });
});

describe('CliError and UsageError', () => {
  it('exit 1 for a failed command and 2 for a command line to fix', () => {
    const failed = new CliError('the stack is not running', { code: 'not_running' });
    const usage = new UsageError('--rows must be a whole number');
    expect(failed).toMatchObject({ exitCode: 1, code: 'not_running' });
    expect(usage).toMatchObject({ exitCode: 2, code: 'usage' });
    expect(usage).toBeInstanceOf(CliError);
    expect(usage).toBeInstanceOf(EcomflowError);
  });
});
