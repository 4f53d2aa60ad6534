/**
 * Jest global setup: the end-to-end suites run the real `bin/ecomflow.js`, which runs the compiled `dist/`.
 * Rebuild it when any source is newer than the last build, so a test never runs yesterday's code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export default function globalSetup(): void {
  const marker = join(ROOT, 'dist', 'cli', 'main.js');
  const built = existsSync(marker) ? statSync(marker).mtimeMs : 0;
  if (built >= newestMtime(join(ROOT, 'src'))) return;
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
  } catch (error) {
    const output = String((error as { stdout?: Buffer }).stdout ?? '');
    throw new Error(`jest global setup: \`tsc -p tsconfig.build.json\` failed:\n${output}`);
  }
}
