/**
 * The stand-ins as `ecomflow up` runs them (kinesalite and dynalite on worker threads, s3rver, state on
 * disk): a taken port is named with its variable, data survives a restart, and dynalite does not pile up
 * LevelDB files under a Query load (each GET of the API is a Query).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { batchWrite, createDocumentClient, queryInvoiceLines } from '../../src/adapters/dynamodb.js';
import { createPipelineResources } from '../../src/adapters/provision.js';
import { itemsForLine } from '../../src/core/dynamo-items.js';
import { generateCsv } from '../../src/core/generate.js';
import { LineCleaner } from '../../src/core/line-cleaner.js';
import type { CleanLine } from '../../src/core/schema.js';
import { PortInUseError, type RunningEmulators, startEmulators } from '../../src/local/emulators.js';

const FREE = { kinesis: 0, dynamodb: 0, s3: 0 };
const TABLES = { invoices: 'invoices', customers: 'customers' };
let dir: string;
let running: RunningEmulators | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecomflow-emulators-'));
  running = undefined;
});
afterEach(async () => {
  await running?.stop();
  await rm(dir, { recursive: true, force: true });
});

function documentClient(emulators: RunningEmulators) {
  return createDocumentClient({ region: 'us-east-1', endpoints: emulators.endpoints });
}

function megabytes(path: string): number {
  return Number(execFileSync('du', ['-sk', path]).toString().split('\t')[0]) / 1024;
}

describe('the stand-ins of the local stack', () => {
  it('names the part, the port and the variable when a port is taken', async () => {
    // Prepare
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;

    // Act
    const start = startEmulators(dir, { ...FREE, dynamodb: port });

    // Assess
    await expect(start).rejects.toThrow(PortInUseError);
    await expect(start).rejects.toThrow(
      `port ${port} for DynamoDB (dynalite) is already in use: stop whatever holds it, or set ECOMFLOW_DYNAMODB_PORT to a free port`,
    );
    await new Promise((resolve) => squatter.close(resolve));
  });

  it('keeps DynamoDB items across a stop and a start on the same folder', async () => {
    // Prepare
    running = await startEmulators(dir, FREE);
    let doc = documentClient(running);
    await createPipelineResources({ dynamo: doc }, { tables: TABLES });
    await doc.send(new PutCommand({ TableName: 'customers', Item: { pk: 'C#1', sk: 'x', n: 1 } }));
    doc.destroy();
    await running.stop();

    // Act
    running = await startEmulators(dir, FREE);
    doc = documentClient(running);
    const got = await doc.send(new GetCommand({ TableName: 'customers', Key: { pk: 'C#1', sk: 'x' } }));
    doc.destroy();

    // Assess
    expect(got.Item).toEqual({ pk: 'C#1', sk: 'x', n: 1 });
  });

  it('lets dynalite free its LevelDB files while Queries run (its iterators are closed)', async () => {
    // Prepare: the items of 6,000 lines, written twice (the second pass makes the first obsolete),
    // while a client queries invoices without pause, as GET /invoices does.
    const lines: CleanLine[] = [];
    const cleaner = new LineCleaner({ line: (l) => lines.push(l), reject: () => {} });
    cleaner.push(`${[...generateCsv({ rows: 6_000, seed: 5 })].join('\n')}\n`);
    cleaner.end();
    running = await startEmulators(dir, FREE);
    const doc = documentClient(running);
    await createPipelineResources({ dynamo: doc }, { tables: TABLES });
    let writing = true;
    let queries = 0;
    const reader = (async () => {
      while (writing) {
        await queryInvoiceLines(doc, 'invoices', lines[queries % lines.length]!.invoice_no);
        queries++;
      }
    })();

    // Act
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < lines.length; i += 500) {
        await batchWrite(doc, TABLES, lines.slice(i, i + 500).flatMap(itemsForLine), { concurrency: 4 });
      }
    }
    writing = false;
    await reader;
    doc.destroy();

    // Assess: with the iterators left open the folder holds ~3x this (every version they pinned).
    expect(queries).toBeGreaterThan(100);
    expect(megabytes(join(dir, 'dynamodb'))).toBeLessThan(12);
  }, 60_000);
});
