/**
 * `npm run bench`: runs every benchmark and rewrites the generated part of docs/benchmarks.md.
 * Timed assertions never live in tests; the figures live here, each beside a reference from the same run.
 */
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchClean } from './clean.js';
import { ROOT } from './lib.js';
import { benchLoad } from './load.js';
import { benchPacking } from './packing.js';
import { benchReplay } from './replay.js';

const REAL_DATA =
  process.env['ECOMFLOW_REAL_DATA'] ??
  join(ROOT, '..', 'shared', 'data', 'online-retail', 'online-retail.csv.gz');
const DOC = join(ROOT, 'docs', 'benchmarks.md');
const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';

if (!existsSync(REAL_DATA)) {
  console.error(
    `bench: the real data set is absent at ${REAL_DATA} (set ECOMFLOW_REAL_DATA to point at your copy)`,
  );
  process.exit(2);
}

const sections: string[] = [
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.`,
  '',
];
sections.push(await benchClean(REAL_DATA));
sections.push(await benchPacking(REAL_DATA));
sections.push(await benchReplay(REAL_DATA));
sections.push(await benchLoad(REAL_DATA));

const generated = sections.join('\n');
const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`;
const start = doc.indexOf(BEGIN);
const end = doc.indexOf(END);
if (start === -1 || end === -1) throw new Error(`${DOC} lacks the ${BEGIN} / ${END} markers`);
writeFileSync(DOC, `${doc.slice(0, start + BEGIN.length)}\n${generated}\n${doc.slice(end)}`);
// The tables are written compact; the formatter pads them as `npm run lint` expects.
execFileSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', DOC], { stdio: 'ignore' });
console.log(generated);
