/**
 * `npm start` end to end, over HTTP and the CLI only: the real `ecomflow up` process with its own state
 * folder and ports, and a 200 ms Firehose buffer.
 *
 * The lake and the warehouse's raw table are at-least-once append stores, as on AWS (Firehose can deliver a
 * record twice, and a re-posted row is delivered again): readers dedupe by line_id. So "nothing doubled"
 * means: DynamoDB holds each line once, and the lake and the warehouse hold each line_id, however often
 * its rows arrive.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { jest } from '@jest/globals';
import { createDocumentClient } from '../../src/adapters/dynamodb.js';
import { createS3Client } from '../../src/adapters/s3.js';
import { LAKE_RAW_TABLE } from '../../src/analytics/models.js';
import type { AuditReport } from '../../src/audit/compare.js';
import { LOCAL_AUTH } from '../../src/config/auth.js';
import { LOCAL_RESOURCES } from '../../src/config/local.js';
import { invoiceLineItem } from '../../src/core/dynamo-items.js';
import { quarantineKey, quarantineRecord } from '../../src/core/quarantine.js';
import { readStackInfo } from '../../src/local/stack.js';
import { decimalText, milli } from '../helpers/analytics.js';
import { type PostedRows, postedRows } from '../helpers/posted-rows.js';
import {
  cleanUp,
  eventually,
  lakeQuery,
  makeHome,
  runCli,
  type StackProcess,
  stackEnv,
  startStackProcess,
  warehouseQuery,
} from '../helpers/stack-process.js';

jest.setTimeout(120_000);

let home: string;
let vars: Record<string, string>;
let stack: StackProcess;

beforeAll(async () => {
  home = await makeHome();
  vars = await stackEnv(home);
  stack = await startStackProcess(vars);
});
afterAll(async () => {
  await cleanUp(stack, home);
});

function post(body: string | Buffer, key = stack.apiKey, contentType = 'text/csv; charset=utf-8') {
  return fetch(`${stack.apiUrl}/ingest`, {
    method: 'POST',
    headers: { 'content-type': contentType, 'x-api-key': key },
    body,
  });
}

async function getInvoice(no: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.apiUrl}/invoices/${encodeURIComponent(no)}`, {
    headers: { 'x-api-key': stack.apiKey },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Waits until every invoice of `rows` lists exactly its distinct lines; returns the line counts. */
async function expectAllVisible(rows: PostedRows): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [no, ids] of rows.invoices) {
    const body = await eventually(`GET /invoices/${no} lists its ${ids.size} lines`, async () => {
      const { status, body } = await getInvoice(no);
      const listed = new Set(((body['lines'] ?? []) as { line_id: string }[]).map((l) => l.line_id));
      return status === 200 && [...ids].every((id) => listed.has(id)) ? body : undefined;
    });
    expect(body['line_count']).toBe(ids.size);
    counts.set(no, body['line_count'] as number);
  }
  return counts;
}

/** The lines as an analyst counts them (the view `invoice_lines`), or as stored (`invoice_lines_raw`). */
async function lakeCounts(
  rows: PostedRows,
  table: 'invoice_lines' | typeof LAKE_RAW_TABLE = 'invoice_lines',
): Promise<{ n: number; d: number; total: string }> {
  const [row] = await lakeQuery(
    `SELECT count(*) AS n, count(DISTINCT line_id) AS d, sum(line_total) AS total FROM ${table} WHERE invoice_no IN (${rows.invoiceList})`,
    vars,
  );
  return { n: Number(row!['n']), d: Number(row!['d']), total: String(row!['total']) };
}

async function warehouseCounts(rows: PostedRows): Promise<{ n: number; d: number }> {
  const [row] = await warehouseQuery(
    `SELECT count(*) AS n, count(DISTINCT line_id) AS d FROM raw.invoice_lines WHERE invoice_no IN (${rows.invoiceList})`,
    vars,
  );
  return { n: Number(row!['n']), d: Number(row!['d']) };
}

/** Posts the rows and waits until DynamoDB, the lake and the warehouse's raw table hold every one. */
async function postAndWaitForEveryStore(rows: PostedRows): Promise<PostedRows> {
  expect((await post(rows.csv)).status).toBe(202);
  await expectAllVisible(rows);
  await eventually('the lake holds the rows', async () =>
    (await lakeCounts(rows, LAKE_RAW_TABLE)).n === rows.lines.length ? true : undefined,
  );
  await eventually('the warehouse holds the rows', async () =>
    (await warehouseCounts(rows)).n === rows.lines.length ? true : undefined,
  );
  return rows;
}

describe('ecomflow up, over HTTP', () => {
  it('answers /health without a key, and refuses a bad key, a bad CSV and an oversized body', async () => {
    // Prepare
    const missingColumns = await readFile(join(import.meta.dirname, '..', 'fixtures', 'missing-columns.csv'));
    const header = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n';
    const row =
      '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n';
    const oversized = header + row.repeat(Math.ceil((5.5 * 1024 * 1024) / row.length));

    // Act
    const health = await fetch(`${stack.apiUrl}/health`);
    const noKey = await fetch(`${stack.apiUrl}/invoices/536365`);
    const badKeyGet = await fetch(`${stack.apiUrl}/invoices/536365`, { headers: { 'x-api-key': 'wrong' } });
    const badKeyPost = await post(header + row, 'wrong');
    const badCsv = await post(missingColumns);
    const tooLarge = await post(oversized);

    // Assess
    expect(health.status).toBe(200);
    // Locally, with the Firehose's deliveries as its detail.
    expect(await health.json()).toMatchObject({
      status: 'ok',
      detail: { delivery: { refused_lines: 0, retrying_batches: 0 } },
    });
    expect(noKey.status).toBe(403);
    expect(badKeyGet.status).toBe(403);
    expect(badKeyPost.status).toBe(403);
    expect(badCsv.status).toBe(400);
    const badCsvBody = (await badCsv.json()) as { error: string; message: string; missing: string[] };
    expect(badCsvBody.error).toBe('missing_columns');
    expect(badCsvBody.missing).toEqual(['StockCode', 'UnitPrice', 'Country']);
    expect(badCsvBody.message).toMatch(/missing required columns StockCode, UnitPrice, Country/);
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: string }).error).toBe('payload_too_large');
  });

  it("checks a token from `ecomflow token` with the stack's key: an analyst reads but cannot ingest", async () => {
    // Prepare: the CLI signs with the key the running stack made in its state folder.
    const { stdout } = await runCli(['token', '--role', 'analyst'], vars);
    const headers = { 'x-api-key': stack.apiKey, authorization: `Bearer ${stdout.trim()}` };

    // Act
    const read = await fetch(`${stack.apiUrl}/status`, { headers });
    const write = await fetch(`${stack.apiUrl}/ingest`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/csv' },
      body: 'x',
    });

    // Assess
    expect(read.status).toBe(200);
    expect(write.status).toBe(403);
    expect(write.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
  });

  it("keeps the state folder's secrets and data from other users", async () => {
    const mode = async (path: string) => (await stat(join(home, path))).mode & 0o777;
    // Others may pass through the folder (PostgreSQL, as its own user, reaches its data inside) but not list it.
    expect((await mode('.')) & 0o044).toBe(0);
    for (const file of ['stack.json', 'api-key', LOCAL_AUTH.keyFile])
      expect({ file, mode: await mode(file) }).toEqual({ file, mode: 0o600 });
    for (const dir of ['s3', 'kinesis', 'dynamodb', 'firehose-spool']) {
      expect({ dir, mode: await mode(dir) }).toEqual({ dir, mode: 0o700 });
    }
  });

  it('stores posted rows in DynamoDB, the lake and the warehouse, and a re-post doubles nothing', async () => {
    // Prepare
    const rows = postedRows(400, 11, 1_000_000);

    // Act
    const first = await post(rows.csv);
    const firstBody = (await first.json()) as { accepted: number; rejected: number };
    const counts = await expectAllVisible(rows);
    const stored = await eventually('the lake holds every posted line', async () => {
      const c = await lakeCounts(rows, LAKE_RAW_TABLE);
      return c.n === rows.lines.length ? c : undefined;
    });
    const lake = await lakeCounts(rows);
    const again = await post(rows.csv);
    // The re-posted rows went all the way through once the append-only lake holds them twice.
    const storedAfter = await eventually('the lake received the re-posted rows', async () => {
      const c = await lakeCounts(rows, LAKE_RAW_TABLE);
      return c.n === 2 * rows.lines.length ? c : undefined;
    });
    const lakeAfter = await lakeCounts(rows);
    // Compaction: every day's objects into one, each line once; the view shows the same before and after.
    const compacted = await runCli(['compact', '--min-age-seconds', '0'], vars);
    const storedCompacted = await lakeCounts(rows, LAKE_RAW_TABLE);
    const lakeCompacted = await lakeCounts(rows);
    const recompacted = await runCli(['compact', '--min-age-seconds', '0', '--json'], vars);
    const warehouseAfter = await eventually('the warehouse received both posts', async () => {
      const c = await warehouseCounts(rows);
      return c.n === 2 * rows.lines.length ? c : undefined;
    });
    const countsAfter = await expectAllVisible(rows);

    // Assess
    expect(first.status).toBe(202);
    expect(firstBody).toMatchObject({ accepted: rows.lines.length, rejected: 0 });
    expect(again.status).toBe(202);
    expect(stored).toMatchObject({ n: rows.lines.length, d: rows.distinct });
    expect(storedAfter.d).toBe(rows.distinct);
    // What an analyst counts: each line once, after the first post, the re-post and compaction alike.
    const uniqueTotal = decimalText(
      [...new Map(rows.lines.map((l) => [l.line_id, l])).values()].reduce(
        (sum, l) => sum + milli(l.line_total),
        0,
      ),
    );
    expect(lake).toEqual({ n: rows.distinct, d: rows.distinct, total: uniqueTotal });
    expect(lakeAfter).toEqual(lake);
    expect(compacted).toMatchObject({ code: 0 });
    expect(compacted.stdout).toMatch(/^compacted \d+ of \d+ day partitions/);
    expect(storedCompacted).toEqual(lake);
    expect(lakeCompacted).toEqual(lake);
    expect(recompacted.code).toBe(0);
    expect((JSON.parse(recompacted.stdout) as { compacted: number }).compacted).toBe(0);
    expect(warehouseAfter.d).toBe(rows.distinct);
    expect(countsAfter).toEqual(counts);
    const [item] = [...rows.invoices.keys()];
    const lines = await fetch(
      `${stack.apiUrl}/invoices/${item}/items/${encodeURIComponent(rows.lines.find((l) => l.invoice_no === item)!.stock_code)}`,
      { headers: { 'x-api-key': stack.apiKey } },
    );
    expect(lines.status).toBe(200);
  });

  it('quarantines over-long fields as field_too_long and stores every other line of the same POST everywhere', async () => {
    // Prepare: good rows, and three rows each with one 2,000-byte field. The over-long StockCode shares an
    // invoice with good lines, so the good lines of that invoice must still show.
    const rows = postedRows(60, 21, 3_000_000);
    const [header, first] = rows.csv.split('\n');
    const fields = first!.split(',');
    const long = 'X'.repeat(2_000);
    const poison = [
      [fields[0], fields[1], long, ...fields.slice(3)],
      [fields[0], long, ...fields.slice(2)],
      [long, ...fields.slice(1)],
    ].map((f) => f.join(','));
    const body = `${rows.csv}${poison.join('\n')}\n`;
    expect(header).toMatch(/^InvoiceNo,/);

    // Act
    const response = await post(body);
    const answer = (await response.json()) as {
      accepted: number;
      rejected: number;
      errors: { reason: string; field: string; message: string }[];
    };

    // Assess: the API names each field and its length.
    expect(response.status).toBe(202);
    expect(answer.accepted).toBe(rows.lines.length);
    expect(answer.rejected).toBe(3);
    expect(answer.errors.map((e) => [e.reason, e.field]).sort()).toEqual([
      ['field_too_long', 'Description'],
      ['field_too_long', 'InvoiceNo'],
      ['field_too_long', 'StockCode'],
    ]);
    for (const e of answer.errors) expect(e.message).toContain('2000 bytes');
    // Every other line reaches DynamoDB, the lake and the warehouse.
    await expectAllVisible(rows);
    await eventually('the lake holds every good line', async () => {
      const c = await lakeCounts(rows);
      return c.d === rows.distinct ? c : undefined;
    });
    await eventually('the warehouse holds every good line', async () => {
      const c = await warehouseCounts(rows);
      return c.d === rows.distinct ? c : undefined;
    });
    // Nothing went to the dead-letter destination.
    const deadLetters = await readFile(join(home, 'dead-letter.ndjson'), 'utf8').catch(() => '');
    expect(deadLetters).toBe('');
    // The quarantine is a table: counted by reason, and its rows listed with their origin.
    const counts = await runCli(['quarantine'], vars);
    expect(counts.code).toBe(0);
    expect(counts.stdout).toMatch(/field_too_long/);
    const listed = await runCli(['quarantine', '--json', '--reason', 'field_too_long'], vars);
    const quarantined = JSON.parse(listed.stdout) as {
      field: string;
      source: string;
      quarantine_date: string;
      origin: { source: string; request_id: string };
      raw: string;
    }[];
    expect(quarantined.map((q) => q.field).sort()).toEqual(['Description', 'InvoiceNo', 'StockCode']);
    for (const q of quarantined) {
      expect(q).toMatchObject({ source: 'api', origin: { source: 'api' } });
      expect(q.quarantine_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(poison).toContain(q.raw);
    }
  });

  it('stores the good rows of a POST holding a NUL, a year 0000 and a long Description everywhere, and stalls nothing', async () => {
    // Prepare: three rows that once passed cleaning and then stalled the warehouse's COPY for good.
    const rows = postedRows(40, 22, 6_000_000);
    const [header, first] = rows.csv.split('\n');
    const f = first!.split(',');
    const poison = [
      [f[0], f[1], 'NUL\u0000INSIDE', ...f.slice(3)],
      [f[0], f[1], f[2], f[3], '0000-01-01 00:00:00', ...f.slice(5)],
      [f[0], f[1], 'D'.repeat(300), ...f.slice(3)],
    ].map((r) => r.join(','));
    expect(header).toMatch(/^InvoiceNo,/);

    // Act
    const response = await post(`${rows.csv}${poison.join('\n')}\n`);
    const answer = (await response.json()) as {
      accepted: number;
      rejected: number;
      errors: { reason: string }[];
    };

    // Assess: refused at the door with their reasons; every good line reaches the three stores.
    expect(response.status).toBe(202);
    expect(answer.accepted).toBe(rows.lines.length);
    expect(answer.errors.map((e) => e.reason).sort()).toEqual([
      'control_character',
      'field_too_long',
      'invalid_date',
    ]);
    await expectAllVisible(rows);
    await eventually('the lake holds every good line', async () =>
      (await lakeCounts(rows)).d === rows.distinct ? true : undefined,
    );
    await eventually('the warehouse holds every good line', async () =>
      (await warehouseCounts(rows)).d === rows.distinct ? true : undefined,
    );
  });

  it('keeps DynamoDB, the lake and the warehouse across a Ctrl-C and a restart', async () => {
    // Prepare
    const rows = await postAndWaitForEveryStore(postedRows(300, 12, 2_000_000));

    // Act
    const started = Date.now();
    const code = await stack.stop('SIGINT');
    const stoppedWithin = Date.now() - started;
    const { stderr } = stack.output();
    stack = await startStackProcess(vars);

    // Assess
    expect(code).toBe(0);
    expect(stoppedWithin).toBeLessThan(15_000);
    expect(stderr).toMatch(/SIGINT: stopping[\s\S]*stopped/);
    await expectAllVisible(rows);
    expect(await lakeCounts(rows, LAKE_RAW_TABLE)).toMatchObject({ n: rows.lines.length, d: rows.distinct });
    expect(await lakeCounts(rows)).toMatchObject({ n: rows.distinct, d: rows.distinct });
    expect(await warehouseCounts(rows)).toEqual({ n: rows.lines.length, d: rows.distinct });
  });
  it('audits the stores: every day agrees, then it names the day of a DynamoDB item deleted behind its back', async () => {
    // Prepare: lines in every store, and the warehouse refreshed.
    const rows = await postAndWaitForEveryStore(postedRows(200, 13, 4_000_000));
    expect((await runCli(['refresh'], vars)).code).toBe(0);
    const info = await readStackInfo(home);
    const dynamo = createDocumentClient({
      region: LOCAL_RESOURCES.region,
      endpoints: { dynamodb: info.endpoints.dynamodb },
    });
    const victim = rows.lines[0]!;
    const { pk, sk } = invoiceLineItem(victim);

    // Act
    const agreed = await runCli(['audit', '--json'], vars);
    await dynamo.send(new DeleteCommand({ TableName: LOCAL_RESOURCES.invoicesTable, Key: { pk, sk } }));
    const drifted = await runCli(['audit'], vars);
    const status = await fetch(`${stack.apiUrl}/status`, { headers: { 'x-api-key': stack.apiKey } });
    await dynamo.send(
      new PutCommand({ TableName: LOCAL_RESOURCES.invoicesTable, Item: invoiceLineItem(victim) }),
    );
    dynamo.destroy();

    // Assess: first every day agrees; then exactly the victim's day, by one line and its total.
    expect(agreed.code).toBe(0);
    const before = JSON.parse(agreed.stdout) as AuditReport;
    expect(before).toMatchObject({ agrees: true, disagreements: [] });
    expect(before.days).toBeGreaterThan(0);
    expect(before.totals.lake).toEqual(before.totals.dynamodb);
    const day = victim.invoice_date.slice(0, 10);
    const sameInvoice = rows.lines.filter(
      (l) => l.invoice_no === victim.invoice_no && l.line_id !== victim.line_id,
    );
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toContain(
      `${day}: dynamodb -1 lines, ${sameInvoice.length > 0 ? '0' : '-1'} invoices, ${decimalText(-milli(victim.line_total))} total`,
    );
    expect(drifted.stdout.match(/^ {2}\d{4}-\d{2}-\d{2}: /gm)).toHaveLength(1);
    expect(drifted.stderr).toMatch(/1 of \d+ days disagree/);
    expect(status.status).toBe(200);
    const shown = ((await status.json()) as { audit: AuditReport }).audit;
    expect(shown.disagreements.map((d) => d.day)).toEqual([day]);
  });
  it("rechecks quarantined rows with today's rules and posts those that clean now, storing each once", async () => {
    // Prepare: a quarantine object as older rules would have left it: a row that cleans today, one that
    // does not, in the layout every path writes (quarantineKey).
    const info = await readStackInfo(home);
    const good =
      '5536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom';
    const bad =
      '5536366,85123A,WHITE HANGING HEART T-LIGHT HOLDER,six,12/1/2010 8:26,2.55,17850,United Kingdom';
    const at = new Date();
    const day = at.toISOString().slice(0, 10);
    const origin = { source: 'api', request_id: 'older-rules', stage: 'local' } as const;
    const records = [
      quarantineRecord(
        { line: 2, raw: good, reason: 'invalid_date', field: 'InvoiceDate', message: 'old rule' },
        origin,
        at,
      ),
      quarantineRecord(
        { line: 3, raw: bad, reason: 'invalid_quantity', field: 'Quantity', message: 'x' },
        origin,
        at,
      ),
    ];
    const s3 = createS3Client({ region: LOCAL_RESOURCES.region, endpoints: { s3: info.endpoints.s3 } });
    await s3.send(
      new PutObjectCommand({
        Bucket: LOCAL_RESOURCES.rawBucket,
        Key: `${LOCAL_RESOURCES.quarantinePrefix}${quarantineKey('api', day, 'older-rules')}`,
        Body: `${records.map((r) => JSON.stringify(r)).join('\n')}\n`,
      }),
    );
    s3.destroy();

    // Act
    const first = await runCli(['quarantine', 'recheck', '--json', '--day', day, '--source', 'api'], vars);
    const second = await runCli(['quarantine', 'recheck', '--json', '--day', day, '--source', 'api'], vars);

    // Assess: the good row went through the pipeline once, however often it was rechecked.
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as { cleanNow: number; accepted: number; stillRefused: object };
    expect(result).toMatchObject({ cleanNow: 1, accepted: 1, stillRefused: { invalid_quantity: 1 } });
    expect(JSON.parse(second.stdout)).toMatchObject({ cleanNow: 1, accepted: 1 });
    const invoice = await eventually('the rechecked row shows in GET /invoices', async () => {
      const { status, body } = await getInvoice('5536365');
      return status === 200 ? body : undefined;
    });
    expect(invoice['line_count']).toBe(1);
    expect((await getInvoice('5536366')).status).toBe(404);
  });
});
