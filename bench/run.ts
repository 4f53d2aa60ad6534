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
import { benchDashboard } from './dashboard.js';
import { benchIngest } from './ingest.js';
import { benchLake } from './lake.js';
import { ROOT } from './lib.js';
import { benchLoad } from './load.js';
import { benchLookups } from './lookups.js';
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

/**
 * Sections with their own markers in docs/benchmarks.md, which `--only <name>` re-runs alone (the rest of
 * the document stays as the last full run left it).
 */
const OWN_SECTIONS: Record<string, (realData: string) => Promise<string>> = {
  lake: benchLake,
  lookups: benchLookups,
  ingest: benchIngest,
  dashboard: benchDashboard,
};
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (only !== undefined && !OWN_SECTIONS[only]) {
  console.error(`bench: --only takes one of ${Object.keys(OWN_SECTIONS).join(', ')}, not "${only}"`);
  process.exit(2);
}

const stamp = `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.`;
let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`;

if (only === undefined) {
  const sections: string[] = [stamp, ''];
  sections.push(await benchClean(REAL_DATA));
  sections.push(await benchPacking(REAL_DATA));
  sections.push(await benchReplay(REAL_DATA));
  sections.push(await benchLoad(REAL_DATA));
  const generated = sections.join('\n');
  doc = replaceBetween(doc, BEGIN, END, generated);
  console.log(generated);
}
for (const [name, bench] of Object.entries(OWN_SECTIONS)) {
  if (only !== undefined && only !== name) continue;
  const generated = `${stamp}\n\n${await bench(REAL_DATA)}`;
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  if (!doc.includes(begin)) doc = `${doc.trimEnd()}\n\n${begin}\n${end}\n`;
  doc = replaceBetween(doc, begin, end, generated);
  console.log(generated);
}
writeFileSync(DOC, doc);
// The tables are written compact; the formatter pads them as `npm run lint` expects.
execFileSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', DOC], { stdio: 'ignore' });

function replaceBetween(text: string, begin: string, end: string, body: string): string {
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  if (start === -1 || stop === -1) throw new Error(`${DOC} lacks the ${begin} / ${end} markers`);
  return `${text.slice(0, start + begin.length)}\n${body}\n${text.slice(stop)}`;
}
