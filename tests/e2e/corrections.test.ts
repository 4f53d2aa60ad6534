/**
 * A correction end to end on the running local stack: day 1 of the real data posted, then invoice 536365
 * replaced with one line's quantity changed and one line removed. GET, the lake's invoice_lines, the
 * warehouse's staging and daily_revenue show exactly the new set, and `ecomflow audit` agrees across the
 * stores. Then the same PUT again, and an older change of the invoice put on the stream late (as a
 * re-delivery would), change nothing; and DELETE removes the invoice everywhere.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { jest } from '@jest/globals';
import { createKinesisClient } from '../../src/adapters/kinesis.js';
import { LOCAL_RESOURCES } from '../../src/config/local.js';
import { parseBody, type ValidRow } from '../../src/core/body.js';
import { versionAt } from '../../src/core/changes.js';
import { readStackInfo } from '../../src/local/stack.js';
import { encodeChange, INVOICE_CHANGES, packEnvelopes } from '../../src/stream/envelope.js';
import { describeWithRealData, REAL_DATA } from '../helpers/real-data.js';
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

jest.setTimeout(300_000);

const INVOICE = '536365';
const DAY = '2010-12-01';

describeWithRealData('a correction on the local stack', () => {
  let home: string;
  let vars: Record<string, string>;
  let stack: StackProcess;
  let day1: ValidRow[];
  let original: ValidRow[];
  let corrected: ValidRow[];

  beforeAll(async () => {
    const all = parseBody(gunzipSync(await readFile(REAL_DATA)), 'csv', 'auto').valid;
    day1 = all.filter((v) => v.clean.invoice_date.startsWith(DAY));
    original = day1.filter((v) => v.clean.invoice_no === INVOICE);
    // The correction: the first line's quantity 6 -> 8, the last line removed.
    const [first, ...rest] = original;
    const fixed = { ...first!.row, Quantity: '8' };
    corrected = [...parseBody(ndjson([fixed]), 'ndjson', 'utf-8').valid, ...rest.slice(0, -1)];
    home = await makeHome();
    vars = await stackEnv(home);
    stack = await startStackProcess(vars);
  });
  afterAll(async () => {
    await cleanUp(stack, home);
  });

  const headers = (type?: string) => ({
    'x-api-key': stack.apiKey,
    ...(type ? { 'content-type': type } : {}),
  });
  const ids = (rows: readonly ValidRow[]) => [...new Set(rows.map((r) => r.clean.line_id))].sort();
  const total = (rows: readonly ValidRow[]) =>
    rows.reduce((sum, r) => sum + Math.round(r.clean.line_total * 1000), 0);

  async function getInvoice(): Promise<{ status: number; ids: string[]; quantities: number[] }> {
    const response = await fetch(`${stack.apiUrl}/invoices/${INVOICE}`, { headers: headers() });
    if (response.status !== 200) return { status: response.status, ids: [], quantities: [] };
    const body = (await response.json()) as { lines: { line_id: string; quantity: number }[] };
    return {
      status: 200,
      ids: body.lines.map((l) => l.line_id).sort(),
      quantities: body.lines.map((l) => l.quantity).sort(),
    };
  }
  const lakeIds = async () =>
    (await lakeQuery(`SELECT line_id FROM invoice_lines WHERE invoice_no = '${INVOICE}'`, vars))
      .map((r) => String(r['line_id']))
      .sort();
  const lakeDayLines = async () =>
    Number(
      (
        await lakeQuery(
          "SELECT count(*) AS n FROM invoice_lines WHERE year = '2010' AND month = '12' AND day = '01'",
          vars,
        )
      )[0]!['n'],
    );
  const stagedIds = async () =>
    (await warehouseQuery(`SELECT line_id FROM staging.invoice_lines WHERE invoice_no = '${INVOICE}'`, vars))
      .map((r) => String(r['line_id']))
      .sort();
  const dayRevenue = async () => {
    const [row] = await warehouseQuery(`SELECT revenue FROM marts.daily_revenue WHERE day = '${DAY}'`, vars);
    return Math.round(Number(row!['revenue']) * 1000);
  };
  const rawRows = async () =>
    Number((await warehouseQuery('SELECT count(*) AS n FROM "raw".invoice_lines', vars))[0]!['n']);
  const refresh = async () => {
    const result = await runCli(['refresh'], vars, 120_000);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  };
  /** Waits until the warehouse's raw table has `n` rows, that is, until Firehose delivered them. */
  const rawReaches = (n: number) =>
    eventually(`raw holds ${n} rows`, async () => ((await rawRows()) >= n ? true : undefined), 60_000);

  it('posts day 1, corrects invoice 536365, and every store shows exactly the new set', async () => {
    // Prepare: day 1 through POST /ingest, delivered to every store, then the marts refreshed.
    const posted = await fetch(`${stack.apiUrl}/ingest`, {
      method: 'POST',
      headers: headers('application/x-ndjson'),
      body: ndjson(day1.map((v) => v.row)),
    });
    expect(posted.status).toBe(202);
    const dayIds = ids(day1);
    await rawReaches(day1.length);
    await eventually('the lake has day 1', async () =>
      (await lakeDayLines()) === dayIds.length ? true : undefined,
    );
    expect((await getInvoice()).ids).toEqual(ids(original));
    await refresh();
    const revenueBefore = await dayRevenue();

    // Act: PUT the invoice's new set.
    const put = await fetch(`${stack.apiUrl}/invoices/${INVOICE}`, {
      method: 'PUT',
      headers: headers('application/x-ndjson'),
      body: ndjson(corrected.map((v) => v.row)),
    });
    expect(put.status).toBe(202);
    const receipt = (await put.json()) as { version: number; lines: number; change: string };
    expect(receipt).toMatchObject({ change: 'replace', lines: corrected.length });

    // Assess: GET shows the new lines.
    const want = ids(corrected);
    await eventually('GET shows the new set', async () => {
      const got = await getInvoice();
      return got.ids.join() === want.join() ? got : undefined;
    });
    expect((await getInvoice()).quantities).toContain(8);
    // The lake shows exactly the new set, and the day's other lines are untouched.
    await eventually('the lake shows the new set', async () =>
      (await lakeIds()).join() === want.join() ? true : undefined,
    );
    expect(await lakeDayLines()).toBe(dayIds.length - ids(original).length + want.length);
    // The warehouse: the replace rows and the tombstones arrived; staging and the mart are restated.
    const removed = ids(original).filter((id) => !want.includes(id));
    await rawReaches(day1.length + corrected.length + removed.length);
    await refresh();
    expect(await stagedIds()).toEqual(want);
    expect((await dayRevenue()) - revenueBefore).toBe(total(corrected) - total(original));
    // Every store agrees, day by day.
    const audit = await runCli(['audit'], vars, 120_000);
    expect({ code: audit.code, stderr: audit.stderr }).toEqual({ code: 0, stderr: '' });

    // Act: the same PUT again (a client's retry): a newer version of the same set.
    const again = await fetch(`${stack.apiUrl}/invoices/${INVOICE}`, {
      method: 'PUT',
      headers: headers('application/x-ndjson'),
      body: ndjson(corrected.map((v) => v.row)),
    });
    expect(again.status).toBe(202);
    expect(((await again.json()) as { version: number }).version).toBeGreaterThan(receipt.version);
    // Then an older change, put on the stream late, then a marker on the same shard to know both were read.
    const info = await readStackInfo(home);
    const kinesis = createKinesisClient({
      region: LOCAL_RESOURCES.region,
      endpoints: { kinesis: info.endpoints.kinesis },
    });
    const stale = encodeChange(
      'late',
      versionAt(Date.parse('2020-01-01')),
      INVOICE_CHANGES.replace,
      INVOICE,
      [...original.map((v) => ({ line: v.line, row: v.row }))],
    );
    const marker = packEnvelopes(
      'marker',
      [
        {
          partitionKey: INVOICE,
          line: 2,
          row: { ...original[0]!.row, InvoiceNo: 'MARK1', InvoiceDate: '2010-12-02 08:00:00' },
        },
      ],
      undefined,
      versionAt(Date.now()),
    );
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: LOCAL_RESOURCES.stream,
        Records: [stale, ...marker].map((r) => ({ PartitionKey: r.partitionKey, Data: r.data })),
      }),
    );
    await eventually('the marker is stored', async () =>
      (await fetch(`${stack.apiUrl}/invoices/MARK1`, { headers: headers() })).status === 200
        ? true
        : undefined,
    );
    // Assess: the repeated PUT changed nothing, and nothing of the older change shows anywhere.
    expect((await getInvoice()).ids).toEqual(want);
    await eventually('the marker is in the lake', async () =>
      (await lakeQuery("SELECT line_id FROM invoice_lines WHERE invoice_no = 'MARK1'", vars)).length === 1
        ? true
        : undefined,
    );
    expect(await lakeIds()).toEqual(want);

    // Act: DELETE the invoice.
    const deleted = await fetch(`${stack.apiUrl}/invoices/${INVOICE}`, {
      method: 'DELETE',
      headers: headers(),
    });
    expect(deleted.status).toBe(202);
    // Assess: gone from DynamoDB, the lake and staging.
    await eventually('GET answers 404', async () => ((await getInvoice()).status === 404 ? true : undefined));
    await eventually('the lake shows none of it', async () =>
      (await lakeIds()).length === 0 ? true : undefined,
    );
    // Raw: day 1, the PUT (its set and tombstones), the repeated PUT's set, the marker, the delete's tombstones.
    await rawReaches(day1.length + 2 * corrected.length + removed.length + 1 + want.length);
    await refresh();
    expect(await stagedIds()).toEqual([]);
    expect((await dayRevenue()) - revenueBefore).toBe(-total(original));
  });
});

function ndjson(rows: readonly object[]): string {
  return `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
}
