/**
 * Issue "The cleaning core": clean to Parquet, parse and clean only, peak RSS, and the parser and
 * Parquet writer comparisons that chose the libraries. Every figure stands beside a reference measured
 * in the same run.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import parquetjs from '@dsnp/parquetjs';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse as csvParse } from 'csv-parse/sync';
import Papa from 'papaparse';
import { CsvParser, type CsvRecord } from '../src/core/csv.js';
import { LineCleaner } from '../src/core/line-cleaner.js';
import type { CleanLine } from '../src/core/schema.js';
import { ParquetLineWriter } from '../src/lake/parquet.js';
import { best, fmtMs, measureProcess, OUT, ROOT, ratio, timed } from './lib.js';

export async function benchClean(realData: string): Promise<string> {
  mkdirSync(OUT, { recursive: true });
  const lines: string[] = [];
  const db = await DuckDBInstance.create(':memory:');
  const duck = await db.connect();
  await duck.run(`SET threads = 2`);

  // 1. Clean to Parquet: the CLI end to end vs DuckDB COPY ... TO parquet.
  const ours = await best(3, () =>
    measureProcess(['bin/ecomflow.js', 'clean', realData, '--out', join(OUT, 'clean')]),
  );
  const duckCopy = await best(3, () =>
    timed(() =>
      duck.run(
        `COPY (SELECT * FROM read_csv('${realData}')) TO '${join(OUT, 'duck.parquet')}' (FORMAT parquet)`,
      ),
    ),
  );
  const ourSize = statSync(join(OUT, 'clean', 'lines.parquet')).size;
  const duckSize = statSync(join(OUT, 'duck.parquet')).size;

  // 2. Parse and clean only vs DuckDB read_csv into a table.
  const parseOnly = await best(3, async () => {
    const r = await measureProcess(['--import', 'tsx', 'bench/parse-only.ts', realData]);
    return { ...r, ms: JSON.parse(r.stdout).ms as number };
  });
  const duckRead = await best(3, () =>
    timed(() => duck.run(`CREATE OR REPLACE TABLE lines AS SELECT * FROM read_csv('${realData}')`)),
  );

  lines.push(
    '### Clean to Parquet and parse-and-clean (real data, 541,909 rows)',
    '',
    '| figure | ecomflow | DuckDB reference (same run) | ratio | goal |',
    '|---|---|---|---|---|',
    `| clean to Parquet (\`ecomflow clean\`, wall incl. Node start-up) | ${fmtMs(ours.ms)} | ${fmtMs(duckCopy.ms)} (\`COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)\`) | ${ratio(ours.ms, duckCopy.ms)} | ≤ 6× |`,
    `| parse and clean only (in-process) | ${fmtMs(parseOnly.ms)} | ${fmtMs(duckRead.ms)} (\`CREATE TABLE AS SELECT * FROM read_csv(...)\`) | ${ratio(parseOnly.ms, duckRead.ms)} | ≤ 3× |`,
    `| peak RSS, clean to Parquet | ${ours.peakRssMb.toFixed(0)} MB | | | < 1 GB |`,
    `| Parquet size | ${(ourSize / 1e6).toFixed(1)} MB (typed, 12 columns, snappy) | ${(duckSize / 1e6).toFixed(1)} MB (8 source columns, snappy) | | |`,
    '',
  );

  // 3. Flat memory on a 5-million-row generated file.
  const big = join(OUT, 'generated-5m.csv');
  if (!existsSync(big)) {
    await measureProcess(['bin/ecomflow.js', 'generate', '--rows', '5000000', '--seed', '42', '--out', big]);
  }
  const small = join(OUT, 'generated-500k.csv');
  if (!existsSync(small)) {
    await measureProcess(['bin/ecomflow.js', 'generate', '--rows', '500000', '--seed', '42', '--out', small]);
  }
  const rss500k = await measureProcess(['bin/ecomflow.js', 'clean', small, '--out', join(OUT, 'clean-500k')]);
  const rss5m = await measureProcess(['bin/ecomflow.js', 'clean', big, '--out', join(OUT, 'clean-5m')]);
  lines.push(
    '### Memory against input size (generated data, `ecomflow clean`)',
    '',
    '| rows | file | wall | peak RSS |',
    '|---|---|---|---|',
    `| 500,000 | ${(statSync(small).size / 1e6).toFixed(0)} MB | ${fmtMs(rss500k.ms)} | ${rss500k.peakRssMb.toFixed(0)} MB |`,
    `| 5,000,000 | ${(statSync(big).size / 1e6).toFixed(0)} MB | ${fmtMs(rss5m.ms)} | ${rss5m.peakRssMb.toFixed(0)} MB |`,
    '',
  );
  rmSync(join(OUT, 'clean-5m'), { recursive: true, force: true });

  // 4. How the libraries were chosen: CSV parsers on the same decoded text, Parquet writers on the same lines.
  const text = gunzipSync(readFileSync(realData)).toString('utf8');
  const parsers: [string, () => number][] = [
    [
      'ecomflow CsvParser (chosen)',
      () => {
        const out: CsvRecord[] = [];
        const p = new CsvParser();
        p.push(text, out);
        p.end(out);
        return out.length;
      },
    ],
    ['csv-parse/sync', () => (csvParse(text, { relax_column_count: true }) as unknown[]).length],
    ['papaparse', () => Papa.parse(text, { skipEmptyLines: true }).data.length],
  ];
  lines.push(
    '### CSV parsers on the decoded real file (records only, no cleaning)',
    '',
    '| parser | time | records |',
    '|---|---|---|',
  );
  for (const [name, run] of parsers) {
    const r = await best(3, () => timed(run));
    lines.push(`| ${name} | ${fmtMs(r.ms)} | ${r.value.toLocaleString('en-US')} |`);
  }
  lines.push('');

  const clean: CleanLine[] = [];
  const cleaner = new LineCleaner({ line: (l) => clean.push(l), reject: () => {} }, { dedupe: true });
  cleaner.push(text);
  cleaner.end();
  const hyparquet = await best(2, () =>
    timed(() => {
      const w = ParquetLineWriter.inMemory();
      for (const l of clean) w.append(l);
      return w.close().length;
    }),
  );
  const parquetjsFile = join(OUT, 'parquetjs.parquet');
  const parquetjsRun = await timed(async () => {
    const schema = new parquetjs.ParquetSchema({
      line_id: { type: 'UTF8' },
      invoice_no: { type: 'UTF8' },
      stock_code: { type: 'UTF8' },
      description: { type: 'UTF8', optional: true },
      quantity: { type: 'INT32' },
      invoice_date: { type: 'TIMESTAMP_MILLIS' },
      unit_price: { type: 'DOUBLE' },
      customer_id: { type: 'INT32', optional: true },
      country: { type: 'UTF8' },
      line_total: { type: 'DOUBLE' },
      is_cancellation: { type: 'BOOLEAN' },
      is_adjustment: { type: 'BOOLEAN' },
    });
    const w = await parquetjs.ParquetWriter.openFile(schema, parquetjsFile, { useDataPageV2: false });
    for (const l of clean) {
      await w.appendRow({
        ...l,
        description: l.description ?? undefined,
        customer_id: l.customer_id ?? undefined,
        invoice_date: new Date(l.invoice_date),
      });
    }
    await w.close();
  });
  lines.push(
    `### Parquet writers on the same ${clean.length.toLocaleString('en-US')} clean lines`,
    '',
    '| writer | time | size |',
    '|---|---|---|',
    `| hyparquet-writer, snappy, contract schema (chosen) | ${fmtMs(hyparquet.ms)} | ${(hyparquet.value / 1e6).toFixed(1)} MB |`,
    `| @dsnp/parquetjs (maintained parquetjs fork), snappy default, decimals as DOUBLE | ${fmtMs(parquetjsRun.ms)} | ${(statSync(parquetjsFile).size / 1e6).toFixed(1)} MB |`,
    '',
  );
  duck.closeSync();
  db.closeSync();
  void ROOT;
  return lines.join('\n');
}
