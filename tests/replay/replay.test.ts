/**
 * `replay` against a small fake of the API (the real one runs in tests/e2e): batching with the header
 * repeated, counts checked against the cleaning core, the ack log, freshness measured from POST to GET,
 * and a clean stop when the API goes away. The fake makes lines visible `lagMs` after their POST.
 */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseCsvRows } from '../../src/core/body.js';
import { generateCsv } from '../../src/core/generate.js';
import { close } from '../../src/local/emulators.js';
import { ReplayError } from '../../src/replay/errors.js';
import { replay } from '../../src/replay/replay.js';
import { percentile } from '../../src/replay/summary.js';
import { TokenBucket } from '../../src/replay/token-bucket.js';

let dir: string;
let server: Server;
let apiUrl: string;
let bodies: string[];
let lagMs: number;
/** Stop answering after this many POSTs (the stack went away). */
let postsBeforeOutage: number;
let visible: Map<string, Set<string>>;
/** Answer this many of the next requests (any method) with 429, as the gateway at its limit does. */
let throttleNext: number;

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecomflow-replay-'));
  bodies = [];
  lagMs = 50;
  postsBeforeOutage = Number.POSITIVE_INFINITY;
  visible = new Map();
  throttleNext = 0;
  server = createServer((req, res) => {
    void (async () => {
      if (throttleNext > 0) {
        throttleNext--;
        await readBody(req);
        res
          .writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' })
          .end('{"error":"THROTTLED","message":"Too Many Requests"}');
        return;
      }
      if (req.headers['x-api-key'] !== 'k') {
        res.writeHead(403).end('{"message":"Forbidden"}');
        return;
      }
      if (req.method === 'POST') {
        if (bodies.length >= postsBeforeOutage) {
          req.socket.destroy();
          return;
        }
        const body = await readBody(req);
        bodies.push(body);
        const parsed = parseCsvRows(body);
        setTimeout(() => {
          for (const { clean } of parsed.valid) {
            const ids = visible.get(clean.invoice_no) ?? new Set();
            ids.add(clean.line_id);
            visible.set(clean.invoice_no, ids);
          }
        }, lagMs);
        const status = parsed.valid.length > 0 ? 202 : 400;
        const answer =
          status === 202
            ? { accepted: parsed.valid.length, rejected: parsed.rejected.length }
            : { error: 'no_valid_rows', accepted: 0, rejected: parsed.rejected.length };
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        return;
      }
      const no = decodeURIComponent(req.url!.split('/')[2] ?? '');
      const ids = visible.get(no);
      if (!ids) {
        res.writeHead(404).end('{"error":"not_found"}');
        return;
      }
      const lines = [...ids].map((line_id) => ({ line_id }));
      res.writeHead(200).end(JSON.stringify({ invoice_no: no, line_count: lines.length, lines }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await close(server);
  await rm(dir, { recursive: true, force: true });
});

async function csvFile(rows: number, dirty: number, gzip = false): Promise<string> {
  const text = `${[...generateCsv({ rows, seed: 3, dirty })].join('\n')}\n`;
  const path = join(dir, gzip ? 'rows.csv.gz' : 'rows.csv');
  await writeFile(path, gzip ? gzipSync(text) : text);
  return path;
}

describe('replay', () => {
  it('waits and asks again when the gateway answers 429, for POSTs and probes alike', async () => {
    // Prepare: the first 6 requests are throttled, whichever they are.
    const file = await csvFile(300, 0);
    throttleNext = 6;
    // Act
    const summary = await replay({ file, apiUrl, apiKey: 'k', rate: 0, batchRows: 50 });
    // Assess: every row accepted, every POST's throttling counted as a retry, no error.
    expect(summary.error).toBeNull();
    expect(summary.accepted).toBe(summary.expected.accepted);
    expect(summary.retries).toBeGreaterThan(0);
    expect(throttleNext).toBe(0);
  });

  it('posts batches that repeat the header, agrees with the core, logs acks and measures freshness', async () => {
    // Prepare
    const file = await csvFile(2_500, 0.01, true);
    const ackLog = join(dir, 'acks.tsv');
    lagMs = 120;

    // Act
    const summary = await replay({ file, apiUrl, apiKey: 'k', rate: 0, batchRows: 1_000, ackLog });

    // Assess
    expect(bodies).toHaveLength(3);
    const header = bodies[0]!.split('\n')[0]!;
    expect(header).toMatch(/^InvoiceNo,StockCode/);
    expect(bodies.every((b) => b.startsWith(`${header}\n`))).toBe(true);
    expect(bodies.map((b) => b.trimEnd().split('\n').length - 1)).toEqual([1_000, 1_000, 500]);
    expect(summary).toMatchObject({ rows: 2_500, requests: 3, retries: 0, error: null });
    expect(summary.rejected).toBeGreaterThan(0);
    expect({ accepted: summary.accepted, rejected: summary.rejected }).toEqual({
      accepted: summary.expected.accepted,
      rejected: summary.expected.rejected,
    });
    const acked = (await readFile(ackLog, 'utf8')).trim().split('\n');
    expect(acked).toHaveLength(summary.accepted);
    expect(acked[0]).toMatch(/^[0-9a-f]{32}\t\d+$/);
    expect(summary.freshness).toMatchObject({ probes: 3, timed_out: 0 });
    expect(summary.freshness.p50_ms).toBeGreaterThanOrEqual(120);
    expect(summary.freshness.p99_ms).toBeLessThan(2_000);
    expect(summary.end_to_end?.rows_per_s).toBeGreaterThan(0);
  });

  it('counts a batch with no valid row as rejected, not as a failure', async () => {
    // Prepare
    const file = join(dir, 'bad.csv');
    await writeFile(
      file,
      'InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,Country\n1,A,six,2011-01-01 10:00,1,UK\n',
    );

    // Act
    const summary = await replay({ file, apiUrl, apiKey: 'k', rate: 0 });

    // Assess
    expect(summary).toMatchObject({ rows: 1, requests: 1, accepted: 0, rejected: 1, error: null });
    expect(summary.freshness.probes).toBe(0);
  });

  it('refuses a file whose header lacks required columns before posting anything', async () => {
    // Prepare
    const file = join(dir, 'missing.csv');
    await writeFile(file, 'InvoiceNo,Description\n1,x\n');

    // Act
    const run = replay({ file, apiUrl, apiKey: 'k' });

    // Assess
    await expect(run).rejects.toThrow(ReplayError);
    await expect(run).rejects.toThrow(/missing.csv: header is missing required columns StockCode/);
    expect(bodies).toEqual([]);
  });

  it('stops with the reason, rather than hanging, when the API goes away mid-replay', async () => {
    // Prepare
    const file = await csvFile(5_000, 0);
    postsBeforeOutage = 2;

    // Act
    const started = performance.now();
    const summary = await replay({ file, apiUrl, apiKey: 'k', rate: 0, batchRows: 500, inFlight: 2 });

    // Assess
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(summary.error).toMatch(/POST \/ingest failed 3 times/);
    expect(summary.requests).toBe(2);
    expect(summary.rows).toBeLessThan(5_000);
    expect(summary.end_to_end).toBeNull();
  });

  it('stops on a refused key with the status', async () => {
    // Prepare
    const file = await csvFile(10, 0);

    // Act
    const summary = await replay({ file, apiUrl, apiKey: 'wrong', rate: 0 });

    // Assess
    expect(summary.error).toMatch(/POST \/ingest answered 403/);
    expect(summary.accepted).toBe(0);
  });
});

describe('TokenBucket', () => {
  it('lets a burst of its capacity through, then paces takes to the rate', async () => {
    // Prepare: a fake clock; sleeping advances it.
    let now = 0;
    const slept: number[] = [];
    const bucket = new TokenBucket(
      1_000,
      500,
      () => now,
      async (ms) => {
        slept.push(ms);
        now += ms;
      },
    );

    // Act: four takes of 500 tokens at 1,000 a second.
    for (let i = 0; i < 4; i++) await bucket.take(500);

    // Assess: the first is free, each next one waits half a second.
    expect(slept).toEqual([500, 500, 500]);
    expect(now).toBe(1_500);
  });
});

describe('percentile', () => {
  it('is the nearest-rank value, and null for no values', () => {
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(20);
    expect(percentile([10, 20, 30, 40], 0.99)).toBe(40);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNull();
  });
});
