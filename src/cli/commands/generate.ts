import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { generateCsv } from '../../core/generate.js';
import { UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';

export const generateUsage = `ecomflow generate --rows N [--seed S] [--style spark|uci] [--dirty FRACTION] [--out file.csv]

Writes UCI-shaped synthetic CSV (to stdout unless --out), the same for the same seed.`;

export async function generateCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...HELP_OPTION,
      rows: { type: 'string' },
      seed: { type: 'string', default: '1' },
      style: { type: 'string', default: 'spark' },
      dirty: { type: 'string', default: '0' },
      out: { type: 'string', short: 'o' },
    },
  });
  if (values.help) return printUsage(generateUsage);
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${generateUsage}`);
  const rows = Number(values.rows);
  if (!Number.isSafeInteger(rows) || rows < 0)
    throw new UsageError(`--rows must be a whole number, not "${values.rows}"`);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed))
    throw new UsageError(`--seed must be a whole number, not "${values.seed}"`);
  const dirty = Number(values.dirty);
  if (!(dirty >= 0 && dirty <= 1))
    throw new UsageError(`--dirty must be a fraction from 0 to 1, not "${values.dirty}"`);
  if (values.style !== 'spark' && values.style !== 'uci') {
    throw new UsageError(`--style must be spark or uci, not "${values.style}"`);
  }
  if (values.out) await mkdir(dirname(values.out), { recursive: true });
  const out: Writable = values.out ? createWriteStream(values.out) : process.stdout;
  await writeLines(out, generateCsv({ rows, seed, style: values.style, dirty }));
  if (values.out) {
    out.end();
    await once(out, 'finish');
  }
}

/** Writes lines in 64 KB slices, honouring back-pressure so memory stays flat for any --rows. */
async function writeLines(out: Writable, lines: Iterable<string>): Promise<void> {
  let buffer = '';
  for (const line of lines) {
    buffer += `${line}\n`;
    if (buffer.length >= 1 << 16) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  if (buffer && !out.write(buffer)) await once(out, 'drain');
}
