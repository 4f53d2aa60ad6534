/**
 * The dashboard's speed on the local stack with the real data loaded (`ecomflow load`, then a refresh and
 * the snapshot): the page's first render in Chromium (navigation start to the `dashboard-drawn` mark the
 * page sets once every tile of its first answer is drawn), and GET /dashboard/data's latency, beside
 * GET /health in the same run (the gateway and the handler with no store).
 *
 * Needs Debian's Chromium (`apt-get install chromium`, or ECOMFLOW_CHROMIUM); without it the section says so.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { createS3Client } from '../src/adapters/s3.js';
import { LOCAL_RESOURCES } from '../src/config/local.js';
import { readDashboardSnapshot } from '../src/dashboard/snapshot.js';
import { readStackInfo } from '../src/local/stack.js';
import { runCli, withFreshStack } from './replay.js';

const CHROMIUM = process.env['ECOMFLOW_CHROMIUM'] ?? '/usr/bin/chromium';
/** The mark dashboard.js sets when the first answer is drawn. */
const DRAWN_MARK = 'dashboard-drawn';
/** Page loads, each in a fresh browser context (no cache), and data requests timed per route. */
const RENDERS = 5;
const REQUESTS = 20;
export const DASHBOARD_GOALS = { firstRenderMs: 1000, dataRequestMs: 100 } as const;

const ms = (value: number) => `${value.toFixed(1)} ms`;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};

/** p50 of REQUESTS sequential GETs of `path`, after one unmeasured (a cold snapshot read is its own figure). */
async function latency(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ p50: number; max: number; first: number; bytes: number }> {
  const once = async () => {
    const started = performance.now();
    const response = await fetch(`${baseUrl}${path}`, { headers });
    const body = await response.arrayBuffer();
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
    return { ms: performance.now() - started, bytes: body.byteLength };
  };
  const first = await once();
  const runs: number[] = [];
  for (let i = 0; i < REQUESTS; i++) runs.push((await once()).ms);
  return { p50: median(runs), max: Math.max(...runs), first: first.ms, bytes: first.bytes };
}

/** Navigation start to the page's `dashboard-drawn` mark, in a fresh context each time. */
async function firstRenders(url: string): Promise<number[]> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  try {
    const times: number[] = [];
    for (let i = 0; i < RENDERS; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      await page.goto(url);
      const handle = await page.waitForFunction(
        `performance.getEntriesByName(${JSON.stringify(DRAWN_MARK)})[0]?.startTime`,
        undefined,
        { timeout: 30_000 },
      );
      times.push(Number(await handle.jsonValue()));
      await context.close();
    }
    return times;
  } finally {
    await browser.close();
  }
}

export async function benchDashboard(realData: string): Promise<string> {
  const title = '### Dashboard (real data loaded)';
  if (!existsSync(CHROMIUM)) {
    return `${title}\n\nNot measured: no Chromium at ${CHROMIUM} (\`apt-get install chromium\`, or set ECOMFLOW_CHROMIUM).\n`;
  }
  return withFreshStack(async ({ home, vars, stack }) => {
    const load = await runCli(['load', realData], vars);
    await runCli(['refresh'], vars);
    // `ecomflow load` and `ecomflow refresh` leave the snapshot behind, in the local S3.
    const info = await readStackInfo(home);
    const s3 = createS3Client({ region: LOCAL_RESOURCES.region, endpoints: info.endpoints });
    const snapshot = await readDashboardSnapshot(s3, LOCAL_RESOURCES.rawBucket);
    s3.destroy();
    if (!snapshot) throw new Error('the refresh left no dashboard snapshot');
    const baseUrl = `http://127.0.0.1:${vars['PORT']}`;
    const headers = { 'x-api-key': info.apiKey };

    const health = await latency(baseUrl, '/health', {});
    const all = await latency(baseUrl, '/dashboard/data', headers);
    const netherlands = await latency(
      baseUrl,
      '/dashboard/data?from=2011-06-01&to=2011-11-30&country=Netherlands',
      headers,
    );
    const renders = await firstRenders(`${baseUrl}/`);
    await stack.stop();

    const render = median(renders);
    const met = (ok: boolean) => (ok ? 'met' : '**missed**');
    const rows =
      snapshot.dailyCountryRevenue.length +
      snapshot.productCountrySales.length +
      snapshot.monthlyCountryRevenue.length +
      snapshot.cancellations.length +
      snapshot.rfmSegments.length;
    return [
      `${title}: ${snapshot.warehouse.stagingLines.toLocaleString('en-US')} lines in staging, a snapshot of ${rows.toLocaleString('en-US')} mart rows`,
      '',
      '| figure | p50 | max | first (cold) | answer | goal |',
      '|---|---|---|---|---|---|',
      `| GET /health (reference) | ${ms(health.p50)} | ${ms(health.max)} | ${ms(health.first)} | ${health.bytes} B | |`,
      `| GET /dashboard/data (whole period, every country) | ${ms(all.p50)} | ${ms(all.max)} | ${ms(all.first)} | ${(all.bytes / 1024).toFixed(0)} KiB | < ${DASHBOARD_GOALS.dataRequestMs} ms: ${met(all.p50 < DASHBOARD_GOALS.dataRequestMs)} |`,
      `| GET /dashboard/data (six months, Netherlands) | ${ms(netherlands.p50)} | ${ms(netherlands.max)} | ${ms(netherlands.first)} | ${(netherlands.bytes / 1024).toFixed(0)} KiB | < ${DASHBOARD_GOALS.dataRequestMs} ms: ${met(netherlands.p50 < DASHBOARD_GOALS.dataRequestMs)} |`,
      `| first render in Chromium (navigation start to every tile drawn, median of ${RENDERS}) | ${ms(render)} | ${ms(Math.max(...renders))} | | | < ${DASHBOARD_GOALS.firstRenderMs} ms: ${met(render < DASHBOARD_GOALS.firstRenderMs)} |`,
      '',
      `${REQUESTS} sequential requests a route after one unmeasured; the first (cold) request reads and parses the snapshot, ` +
        `the next ones find it kept by its ETag (one HeadObject to s3rver) and only sum the rows. ` +
        `The load (\`ecomflow load\`, ${(load.ms / 1000).toFixed(0)} s) and the refresh ran before. ` +
        `Each render is a fresh browser context (nothing cached), Chromium headless with chart.js's animations off. ` +
        `Load average at the end: ${loadavg()[0]!.toFixed(1)} (the machine's other work competes for the same cores).`,
      '',
    ].join('\n');
  });
}
