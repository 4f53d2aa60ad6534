/**
 * `ecomflow redrive` as an operator runs it: against a local stack (the stand-ins, with the local
 * resource names, and the stack.json `ecomflow up` writes), and its command line. It prints a line per
 * message and exits 1 while a message stays in the DLQ.
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { putRecords } from '../../src/adapters/kinesis.js';
import { createPipelineResources } from '../../src/adapters/provision.js';
import { main } from '../../src/cli/main.js';
import { LOCAL_RESOURCES } from '../../src/config/local.js';
import { AWS_REDRIVE_SETTINGS } from '../../src/config/redrive.js';
import { DEAD_LETTER_FILE } from '../../src/local/dead-letters.js';
import type { StackInfo } from '../../src/local/stack.js';
import { packEnvelopes } from '../../src/stream/envelope.js';
import { type Emulators, StreamReader, scanTable, startEmulators } from '../helpers/emulators.js';
import { kinesisInvocationRecord } from '../helpers/events.js';

const VARIABLES = ['ECOMFLOW_HOME', ...AWS_REDRIVE_SETTINGS.map((s) => s.variable)];

let home: string;
let errors: string[];
let output: string[];
const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'ecomflow-redrive-cli-'));
  for (const name of VARIABLES) delete process.env[name];
  process.env['ECOMFLOW_HOME'] = home;
  errors = [];
  output = [];
  jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void output.push(args.join(' ')));
});
afterEach(async () => {
  jest.restoreAllMocks();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await rm(home, { recursive: true, force: true });
});

describe('ecomflow redrive, its command line', () => {
  it('refuses an --aws flag without --aws', async () => {
    expect(await main(['redrive', '--queue-url', 'https://sqs.eu-west-1.amazonaws.com/1/q'])).toBe(2);
    expect(errors.join('\n')).toMatch(/--queue-url is for --aws only/);
  });

  it('says which settings --aws lacks, as a usage error', async () => {
    expect(await main(['redrive', '--aws', '--function', 'ecomflow-prod-transform'])).toBe(2);
    expect(errors.join('\n')).toMatch(
      /redrive --aws needs --queue-url \(or ECOMFLOW_DLQ_URL; TransformDLQUrl\), --stream/,
    );
  });

  it('says no stack was started in the state folder', async () => {
    expect(await main(['redrive'])).toBe(1);
    expect(errors.join('\n')).toContain(`no local stack found in ${home}`);
  });
});

describe('ecomflow redrive, on a local stack', () => {
  let emu: Emulators;
  let health: Server;

  beforeEach(async () => {
    // Prepare: the stand-ins with the local stack's resources, and the stack.json that names them.
    emu = await startEmulators({ shards: 1 });
    const r = LOCAL_RESOURCES;
    await createPipelineResources(
      { kinesis: emu.kinesis, dynamo: emu.dynamo, s3: emu.s3 },
      {
        stream: { name: r.stream, shards: 1 },
        tables: { invoices: r.invoicesTable, customers: r.customersTable },
        buckets: [r.rawBucket, r.lakeBucket],
      },
    );
    health = createServer((_, res) => res.end('{"status":"ok"}'));
    await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
    const info: Partial<StackInfo> = {
      apiUrl: `http://127.0.0.1:${(health.address() as AddressInfo).port}`,
      endpoints: {
        kinesis: emu.env['ECOMFLOW_KINESIS_ENDPOINT']!,
        dynamodb: emu.env['ECOMFLOW_DYNAMODB_ENDPOINT']!,
        s3: emu.env['ECOMFLOW_S3_ENDPOINT']!,
        firehose: emu.env['ECOMFLOW_FIREHOSE_ENDPOINT']!,
      },
    };
    await writeFile(join(home, 'stack.json'), JSON.stringify(info));
  });
  afterEach(async () => {
    await new Promise((resolve) => health.close(resolve));
    await emu.stop();
  });

  /** Puts invoice rows on the local stream and dead-letters their records, as the poller would. */
  async function deadLetterRows(invoice: string, firstArrival?: Date): Promise<void> {
    const reader = new StreamReader(emu.kinesis, LOCAL_RESOURCES.stream);
    await reader.next();
    const row = {
      InvoiceNo: invoice,
      StockCode: '85123A',
      Description: 'WHITE HANGING HEART T-LIGHT HOLDER',
      Quantity: '6',
      InvoiceDate: '2010-12-01 08:26:00',
      UnitPrice: '2.55',
      CustomerID: '17850',
      Country: 'United Kingdom',
    };
    const packed = packEnvelopes('req-cli', [
      { partitionKey: invoice, line: 2, row },
      { partitionKey: invoice, line: 3, row: { ...row, StockCode: '71053', UnitPrice: '3.39' } },
    ]);
    await putRecords(emu.kinesis, LOCAL_RESOURCES.stream, packed);
    const records = await reader.all();
    const letter = kinesisInvocationRecord({
      shardId: 'shardId-000000000000',
      startSequenceNumber: records[0]!.kinesis.sequenceNumber,
      endSequenceNumber: records.at(-1)!.kinesis.sequenceNumber,
      batchSize: records.length,
      streamArn: `arn:aws:kinesis:${LOCAL_RESOURCES.region}:000000000000:stream/${LOCAL_RESOURCES.stream}`,
      ...(firstArrival ? { firstArrival } : {}),
    });
    await appendFile(join(home, DEAD_LETTER_FILE), `${JSON.stringify(letter)}\n`);
  }

  const letters = async () =>
    (await readFile(join(home, DEAD_LETTER_FILE), 'utf8')).split('\n').filter((l) => l !== '');

  it('redrives the dead-letter file into the stack, prints a line per message, and exits 0', async () => {
    // Prepare
    await deadLetterRows('536365');

    // Act
    const code = await main(['redrive']);

    // Assess
    expect(code).toBe(0);
    expect(output[0]).toMatch(
      /^redriven +dead-letter\.ndjson:1 +shardId-000000000000 \d+\.\.\d+: 1 record stored$/,
    );
    expect(output.at(-1)).toBe('1 message: 1 redriven (1 record), 0 out of retention, 0 failed');
    const lines = (await scanTable(emu.dynamo, LOCAL_RESOURCES.invoicesTable)).filter(
      (i) => i['kind'] === 'line',
    );
    expect(lines).toHaveLength(2);
    expect(await letters()).toEqual([]);
  });

  it('exits 1 and keeps a message past retention, with --json printing the summary', async () => {
    // Prepare
    await deadLetterRows('536366', new Date(Date.now() - 3 * 24 * 3_600_000));
    await deadLetterRows('536367');

    // Act
    const code = await main(['redrive', '--json']);

    // Assess
    expect(code).toBe(1);
    expect(JSON.parse(output.join('\n'))).toMatchObject({
      messages: 2,
      redriven: 1,
      out_of_retention: 1,
      failed: 0,
      results: [{ status: 'out_of_retention' }, { status: 'redriven', records: 1 }],
    });
    expect(errors.join('\n')).toContain('1 of 2 messages kept in the DLQ');
    expect(await letters()).toHaveLength(1);
  });

  it('says so when the DLQ is empty, and exits 0', async () => {
    expect(await main(['redrive'])).toBe(0);
    expect(output).toEqual(['the DLQ is empty: nothing to redrive']);
  });
});
