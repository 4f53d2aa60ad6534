import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadFile } from '../../src/batch/load.js';
import { generateCsv } from '../../src/core/generate.js';
import { StateFileError } from '../../src/files.js';
import { refresh } from '../helpers/analytics.js';
import { duckQuery } from '../helpers/duckdb.js';
import { type LoadBench, startLoadTargets } from '../helpers/load-targets.js';
import { describeWithRealData, REAL_DATA } from '../helpers/real-data.js';

const ROOT = join(import.meta.dirname, '..', '..');

async function generatedFile(dir: string, rows: number, seed: number): Promise<string> {
  const path = join(dir, `generated-${rows}-${seed}.csv`);
  await writeFile(path, `${[...generateCsv({ rows, seed, dirty: 0.002 })].join('\n')}\n`);
  return path;
}

async function counts(bench: LoadBench) {
  const objects = (await bench.lakeKeys()).length;
  // read_parquet fails on a glob that matches no file: an empty lake (a test's start) holds nothing.
  const [lake] =
    objects === 0
      ? [{ lines: 0, ids: 0 }]
      : ((await duckQuery(
          `SELECT count(*)::INTEGER AS lines, count(DISTINCT line_id)::INTEGER AS ids FROM ${await bench.lakeTable()}`,
        )) as { lines: number; ids: number }[]);
  const [raw] = await bench.warehouse.query<{ lines: number; ids: number }>(
    'SELECT count(*)::int AS lines, count(DISTINCT line_id)::int AS ids FROM raw.invoice_lines',
  );
  return { lake, raw, objects };
}

describe('loadFile (the local batch path)', () => {
  let bench: LoadBench;
  beforeAll(async () => {
    bench = await startLoadTargets();
  }, 60_000);
  // Each test starts from empty targets and loads what it looks at, under its own manifest folder.
  beforeEach(async () => {
    await bench.reset();
  });
  afterAll(async () => {
    await bench.stop();
  });

  it('loads every clean line once into the lake and the warehouse, and a second load changes nothing', async () => {
    // Prepare
    const file = await generatedFile(bench.dir, 20_000, 11);
    const manifestDir = join(bench.dir, 'loads-a');
    // Act
    const first = await loadFile(file, bench.targets, { manifestDir });
    const afterFirst = await counts(bench);
    const second = await loadFile(file, bench.targets, { manifestDir });
    const afterSecond = await counts(bench);
    // Assess
    const { report } = first;
    expect(report.rows_read).toBe(20_000);
    expect(report.rows_read).toBe(report.rows_clean + report.duplicates + report.quarantined);
    expect(afterFirst.lake).toEqual({ lines: report.rows_clean, ids: report.rows_clean });
    expect(afterFirst.raw).toEqual({ lines: report.rows_clean, ids: report.rows_clean });
    expect(first.warehouse).toEqual({ copied: report.rows_clean, inserted: report.rows_clean });
    expect(second.alreadyLoaded).toBe(true);
    expect(afterSecond).toEqual(afterFirst);
  });

  it('puts parts under year=/month=/day= of invoice date, with names that depend only on the file', async () => {
    // Prepare
    const file = await generatedFile(bench.dir, 20_000, 11);
    // Act
    await loadFile(file, bench.targets, { manifestDir: join(bench.dir, 'loads-partitions') });
    // Assess
    const keys = await bench.lakeKeys();
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) {
      expect(key).toMatch(
        /^lake\/invoice_lines\/year=\d{4}\/month=\d{2}\/day=\d{2}\/batch-[0-9a-f]{16}-\d{4}\.parquet$/,
      );
    }
    const [misplaced] = await duckQuery(
      `SELECT count(*)::INTEGER AS n FROM ${await bench.lakeTable()}
       WHERE strftime(invoice_date AT TIME ZONE 'UTC', '%Y-%m-%d') <> concat(year, '-', lpad(month::VARCHAR, 2, '0'), '-', lpad(day::VARCHAR, 2, '0'))`,
    );
    expect(misplaced).toEqual({ n: 0 });
  });

  it('loading the same lines from a new manifest (a lost state folder) doubles nothing an analyst sees', async () => {
    // Prepare: the file loaded once, under a state folder that is then lost.
    const file = await generatedFile(bench.dir, 20_000, 11);
    await loadFile(file, bench.targets, { manifestDir: join(bench.dir, 'loads-b-lost') });
    const before = await counts(bench);
    // Act
    const again = await loadFile(file, bench.targets, { manifestDir: join(bench.dir, 'loads-b') });
    // Assess
    // A load is a replace of its invoices at a newer version: raw keeps it as history (one row per line
    // again), the lake's parts are the same objects rewritten, and each line still shows once.
    expect(again.warehouse).toEqual({ copied: before.raw!.lines, inserted: before.raw!.lines });
    const after = await counts(bench);
    expect(after.lake).toEqual(before.lake);
    expect(after.objects).toBe(before.objects);
    expect(after.raw).toEqual({ lines: 2 * before.raw!.lines, ids: before.raw!.ids });
    await refresh(bench.warehouse);
    const [staged] = await bench.warehouse.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM staging.invoice_lines',
    );
    expect(staged!.n).toBe(before.raw!.ids);
  });

  it('finishes an interrupted load without loss or doubles', async () => {
    // Prepare: a bigger file, loaded by a separate process that the test kills mid-way.
    const file = await generatedFile(bench.dir, 150_000, 12);
    const before = await counts(bench);
    const manifestDir = join(bench.dir, 'loads-interrupted');
    const script = `import('./tests/helpers/load-child.ts').then((m) => m.run(${JSON.stringify([file, manifestDir, bench.warehouseUrl, bench.emu.env['ECOMFLOW_S3_ENDPOINT']])}))`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, stdio: 'ignore' });
    // Act: kill it once some parts are stored, before it finishes.
    const manifestFile = () => listDir(manifestDir).find((f) => f.endsWith('.json'));
    const killedEarly = await new Promise<boolean>((resolve) => {
      const poll = setInterval(() => {
        const name = manifestFile();
        if (name) {
          const parts = (JSON.parse(readFileSync(join(manifestDir, name), 'utf8')) as { parts: string[] })
            .parts;
          if (parts.length >= 3) {
            clearInterval(poll);
            child.kill('SIGKILL');
            resolve(true);
          }
        }
      }, 5);
      child.once('exit', () => {
        clearInterval(poll);
        resolve(false);
      });
    });
    expect(killedEarly).toBe(true);
    const interrupted = JSON.parse(readFileSync(join(manifestDir, manifestFile()!), 'utf8')) as {
      lakeDone: boolean;
    };
    expect(interrupted.lakeDone).toBe(false);
    const resumed = await loadFile(file, bench.targets, { manifestDir });
    // Assess
    expect(resumed.lake.skipped).toBeGreaterThanOrEqual(3);
    const after = await counts(bench);
    const added = resumed.report.rows_clean;
    expect(after.lake).toEqual({ lines: before.lake!.lines + added, ids: before.lake!.ids + added });
    expect(after.raw).toEqual({ lines: before.raw!.lines + added, ids: before.raw!.ids + added });
  }, 120_000);

  it('refuses a manifest that a crash left empty, naming it, rather than loading the file again', async () => {
    // Prepare: a small load, then its manifest emptied.
    const file = await generatedFile(bench.dir, 500, 21);
    const manifestDir = join(bench.dir, 'loads-torn');
    await loadFile(file, bench.targets, { manifestDir });
    const manifest = join(manifestDir, readdirSync(manifestDir).find((f) => f.endsWith('.json'))!);
    await writeFile(manifest, '');

    // Act
    const again = loadFile(file, bench.targets, { manifestDir });

    // Assess
    await expect(again).rejects.toThrow(StateFileError);
    await expect(again).rejects.toThrow(`${manifest} is empty, not a load manifest: delete it`);
    expect(readFileSync(manifest, 'utf8')).toBe('');
  });
});

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

describeWithRealData('loading the real data', () => {
  let bench: LoadBench;
  beforeAll(async () => {
    bench = await startLoadTargets();
  }, 60_000);
  afterAll(async () => {
    await bench.stop();
  });

  it('gives the lake and the warehouse exactly 536,641 distinct lines, and a second load (same state folder) changes nothing', async () => {
    const manifestDir = join(bench.dir, 'loads');
    await loadFile(REAL_DATA, bench.targets, { manifestDir });
    const first = await counts(bench);
    expect(first.lake).toEqual({ lines: 536_641, ids: 536_641 });
    expect(first.raw).toEqual({ lines: 536_641, ids: 536_641 });
    await loadFile(REAL_DATA, bench.targets, { manifestDir });
    expect(await counts(bench)).toEqual(first);
  }, 180_000);
});
