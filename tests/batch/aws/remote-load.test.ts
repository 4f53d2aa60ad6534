/**
 * `ecomflow load <file> --target aws`: the upload to incoming/ and following the load's status, against
 * s3rver. What AWS does after the upload (EventBridge starts the state machine) is played by the test: it
 * waits for the object, then runs the real state machine definition and batch handler on it, with
 * Redshift faked over the embedded PostgreSQL (tests/helpers/batch-load.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { headObject } from '../../../src/adapters/s3-objects.js';
import { RemoteLoadError } from '../../../src/batch/aws/errors.js';
import { SOURCE_ID_METADATA } from '../../../src/batch/aws/plan.js';
import { loadRemotely, type RemoteProgress } from '../../../src/batch/aws/remote.js';
import { fileId } from '../../../src/batch/load.js';
import { main } from '../../../src/cli/main.js';
import { generateCsv } from '../../../src/core/generate.js';
import { type BatchBench, RAW_BUCKET, startBatchBench } from '../../helpers/batch-load.js';
import type { Execution } from '../../helpers/state-machine.js';

let bench: BatchBench;
let dir: string;

beforeAll(async () => {
  bench = await startBatchBench();
}, 120_000);

afterAll(async () => {
  await bench?.stop();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecomflow-remote-'));
});

afterEach(async () => {
  jest.restoreAllMocks();
  delete process.env['ECOMFLOW_S3_ENDPOINT'];
  await rm(dir, { recursive: true, force: true });
});

async function csvFile(name: string, rows: number, seed: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${[...generateCsv({ rows, seed, dirty: 0.01 })].join('\n')}\n`);
  return path;
}

/** Plays EventBridge + Step Functions: once `incoming/<name>` exists, runs the load on it. */
async function whenUploaded(name: string, rangeBytes: number): Promise<Execution> {
  for (let i = 0; i < 2_000; i++) {
    if (await headObject(bench.emu.s3, RAW_BUCKET, `incoming/${name}`))
      return bench.run(name, { rangeBytes });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`incoming/${name} never appeared`);
}

const fast = { pollMs: 10, appearTimeoutMs: 60_000 };

describe('loadRemotely', () => {
  it('uploads in parts with the local source id, follows the load to done, and reports its progress', async () => {
    // Prepare: a file over one 5 MiB part, so the upload is multipart.
    const path = await csvFile('big.csv', 65_000, 21);
    const phases = new Set<string>();
    const sent = jest.spyOn(bench.emu.s3, 'send');
    const onProgress = (p: RemoteProgress) => void phases.add(p.phase);

    // Act
    const [result, execution] = await Promise.all([
      loadRemotely(path, { s3: bench.emu.s3, bucket: RAW_BUCKET, partBytes: 5 << 20, ...fast, onProgress }),
      whenUploaded('big.csv', 2 << 20),
    ]);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(result).toMatchObject({
      sourceId: await fileId(path),
      key: 'incoming/big.csv',
      alreadyLoaded: false,
    });
    expect(result.status).toMatchObject({ phase: 'done', mode: 'split', report: { rows_read: 65_000 } });
    expect(result.status.ranges).toBeGreaterThanOrEqual(3);
    const head = await headObject(bench.emu.s3, RAW_BUCKET, 'incoming/big.csv');
    expect(head?.metadata[SOURCE_ID_METADATA]).toBe(result.sourceId);
    const commands = sent.mock.calls.map(([command]) => (command as object).constructor.name);
    expect(commands.filter((c) => c === 'UploadPartCommand')).toHaveLength(2);
    expect(phases.has('uploading')).toBe(true);
    expect(await bench.lakeKeys(result.sourceId)).not.toEqual([]);
  }, 120_000);

  it('does not upload a file again once its load is done', async () => {
    const path = await csvFile('again.csv', 500, 22);
    await Promise.all([
      loadRemotely(path, { s3: bench.emu.s3, bucket: RAW_BUCKET, ...fast }),
      whenUploaded('again.csv', 1 << 20),
    ]);
    await bench.deleteObject(RAW_BUCKET, 'incoming/again.csv');

    const again = await loadRemotely(path, { s3: bench.emu.s3, bucket: RAW_BUCKET, ...fast });

    expect(again.alreadyLoaded).toBe(true);
    expect(again.status.phase).toBe('done');
    expect(await headObject(bench.emu.s3, RAW_BUCKET, 'incoming/again.csv')).toBeNull();
  });

  it('fails with the load’s own reason when the load fails', async () => {
    const path = join(dir, 'no-header.csv');
    await writeFile(path, 'a,b,c\n1,2,3\n');

    const outcome = Promise.all([
      loadRemotely(path, { s3: bench.emu.s3, bucket: RAW_BUCKET, ...fast }),
      whenUploaded('no-header.csv', 1 << 20),
    ]);

    await expect(outcome).rejects.toThrow(RemoteLoadError);
    await expect(outcome).rejects.toThrow(/no-header\.csv failed: .*header.*\(HeaderError/i);
  });

  it('says so when no load starts after the upload (no trigger in front of the bucket)', async () => {
    const path = await csvFile('orphan.csv', 50, 23);

    const outcome = loadRemotely(path, {
      s3: bench.emu.s3,
      bucket: RAW_BUCKET,
      pollMs: 10,
      appearTimeoutMs: 200,
    });

    await expect(outcome).rejects.toThrow(
      /no load started for s3:\/\/ecomflow-test-raw\/incoming\/.*is the stack deployed/,
    );
  });
});

describe('ecomflow load --target aws', () => {
  it('takes the bucket from --bucket, and prints the report and where the data went', async () => {
    // Prepare
    process.env['ECOMFLOW_S3_ENDPOINT'] = bench.emu.env['ECOMFLOW_S3_ENDPOINT'];
    const output: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void output.push(args.join(' ')));
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const path = await csvFile('cli.csv', 800, 24);

    // Act
    const [code] = await Promise.all([
      main(['load', path, '--target', 'aws', '--bucket', RAW_BUCKET]),
      whenUploaded('cli.csv', 1 << 20),
    ]);

    // Assess
    expect(code).toBe(0);
    const printed = output.join('\n');
    expect(printed).toMatch(/read 800 rows/);
    expect(printed).toMatch(/mode\s+single, 1 range/);
    expect(printed).toMatch(/warehouse\s+[\d,]+ copied, [\d,]+ new \(redshift ecomflow-test\/dev\)/);
  });

  it('exits 2 naming the setting when no bucket is given', async () => {
    const errors: string[] = [];
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
    const path = await csvFile('nobucket.csv', 10, 25);
    delete process.env['ECOMFLOW_RAW_BUCKET'];

    const code = await main(['load', path, '--target', 'aws']);

    expect(code).toBe(2);
    expect(errors.join('\n')).toMatch(/--bucket <name> or set ECOMFLOW_RAW_BUCKET/);
  });
});
