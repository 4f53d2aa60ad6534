/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, on the local stack (the
 * real `ecomflow up`) after an `ecomflow load` of the real data and a refresh. Every expected figure is
 * read from the marts in the same run, never written here. Saves docs/dashboard.png.
 * The snapshot the page reads is the one the load's (and the refresh's) refresh left in the local S3.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { type Browser, chromium, type Page } from 'playwright-core';
import { milliOf } from '../../src/audit/compare.js';
import { DASHBOARD_PARTS } from '../../src/dashboard/view.js';
import { describeWithRealData, REAL_DATA } from '../helpers/real-data.js';
import {
  cleanUp,
  makeHome,
  ROOT,
  runCli,
  type StackProcess,
  stackEnv,
  startStackProcess,
  warehouseQuery,
} from '../helpers/stack-process.js';

jest.setTimeout(900_000);

/** Debian's Chromium (`apt-get install chromium`, which .ci/run does when it is missing). */
const CHROMIUM = process.env['ECOMFLOW_CHROMIUM'] ?? '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'docs', 'dashboard.png');
const DAY = '2011-11-14';
const COUNTRY = 'Netherlands';

/** `describe` with Chromium present; otherwise skipped, saying why. */
function describeWithChromium(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describeWithRealData(name, body);
    return;
  }
  console.warn(
    `skipping "${name}": no Chromium at ${CHROMIUM} (apt-get install chromium, or set ECOMFLOW_CHROMIUM)`,
  );
  describe.skip(`${name} (skipped: no Chromium at ${CHROMIUM})`, body);
}

/** The value a figure carries for tests (`data-value`), in thousandths. */
async function figureMilli(page: Page, testid: string): Promise<number> {
  const value = await page.getByTestId(testid).getAttribute('data-value');
  if (value === null) throw new Error(`${testid} carries no data-value`);
  return milliOf(value);
}

/** One number from the local warehouse, in thousandths (DECIMAL comes back as text: exact). */
async function martMilli(sql: string, vars: Record<string, string>): Promise<number> {
  const [row] = await warehouseQuery(sql, vars);
  return milliOf(String(row!['v']));
}

describeWithChromium('the dashboard in a browser, on the real data', () => {
  let home: string;
  let vars: Record<string, string>;
  let stack: StackProcess;
  let browser: Browser;
  /** What the page showed before any data was sent. */
  let before: { empty: boolean; command: string };

  const open = async (page: Page) => {
    await page.goto(`${stack.apiUrl}/`);
    await page.locator('#tiles[aria-busy="false"]').waitFor({ state: 'attached' });
  };

  beforeAll(async () => {
    home = await makeHome();
    vars = await stackEnv(home);
    stack = await startStackProcess(vars);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // As root (CI containers), Chromium refuses to start with its sandbox.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    // Before any data: the empty state.
    const page = await browser.newPage();
    await open(page);
    before = {
      empty: await page.getByTestId('empty-state').isVisible(),
      command: (await page.getByTestId('replay-command').textContent()) ?? '',
    };
    await page.close();
    // The real data through the batch path, then the marts and the snapshot.
    const load = await runCli(['load', REAL_DATA], vars, 600_000);
    expect({ code: load.code, stderr: load.stderr }).toEqual({ code: 0, stderr: '' });
    const refresh = await runCli(['refresh'], vars, 300_000);
    expect({ code: refresh.code, stderr: refresh.stderr }).toEqual({ code: 0, stderr: '' });
  });
  afterAll(async () => {
    await browser?.close();
    await cleanUp(stack, home);
  });

  it('said there was no data yet, with the replay command, before the load', () => {
    expect(before.empty).toBe(true);
    expect(before.command).toMatch(/^npx ecomflow replay \S+\.csv\.gz$/);
  });

  it("renders with no console errors, and shows the marts' day revenue and top product", async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    const dayRevenue = await martMilli(
      `SELECT revenue AS v FROM marts.daily_revenue WHERE day = '${DAY}'`,
      vars,
    );
    const [top] = await warehouseQuery(
      'SELECT stock_code, description, revenue FROM marts.top_products WHERE rank = 1',
      vars,
    );
    const total = await martMilli('SELECT SUM(revenue) AS v FROM marts.daily_revenue', vars);

    // Act
    await open(page);

    // Assess
    expect(await page.getByTestId('empty-state').isVisible()).toBe(false);
    expect(await figureMilli(page, `daily-revenue-${DAY}`)).toBe(dayRevenue);
    expect(await figureMilli(page, 'revenue-total')).toBe(total);
    expect(await page.getByTestId('top-product-1-code').textContent()).toBe(top!['stock_code']);
    expect(await page.getByTestId('top-product-1-description').textContent()).toBe(top!['description']);
    expect(await figureMilli(page, 'top-product-1-revenue')).toBe(milliOf(String(top!['revenue'])));
    expect(await page.getByTestId('status').getAttribute('data-kind')).toBe('info');
    // Each chart names itself and summarises its figures in text.
    for (const id of [
      'chart-daily',
      'chart-products',
      'chart-units',
      'chart-countries',
      'chart-cancellations',
      'chart-rfm',
    ]) {
      expect((await page.locator(`#${id}`).getAttribute('aria-label'))?.length).toBeGreaterThan(40);
    }
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it(`shows ${COUNTRY}'s revenue from the mart once the country is chosen, with the keyboard`, async () => {
    // Prepare
    const page = await browser.newPage();
    const countryRevenue = await martMilli(
      `SELECT SUM(revenue) AS v FROM marts.monthly_country_revenue WHERE country = '${COUNTRY}'`,
      vars,
    );
    await open(page);
    const allCountries = await figureMilli(page, 'revenue-total');

    // Act: focus the country control and choose by typing, as a keyboard user does (a closed select
    // changes, and fires change, as the typed name matches an option).
    await page.getByLabel('Country', { exact: true }).focus();
    await page.keyboard.type(COUNTRY);
    await page.locator(`#tiles[data-loaded*="country=${COUNTRY}"]`).waitFor({ state: 'attached' });

    // Assess
    expect(await page.getByLabel('Country', { exact: true }).inputValue()).toBe(COUNTRY);
    expect(await figureMilli(page, 'revenue-total')).toBe(countryRevenue);
    expect(countryRevenue).not.toBe(allCountries);
    await page.close();
  });

  it('names the part that is down, and says when the data request itself fails', async () => {
    // Prepare: the API's answer with the snapshot named as down, then a failing request.
    const page = await browser.newPage();
    await page.route('**/dashboard/data*', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      body.health.unavailable = [DASHBOARD_PARTS.snapshot];
      await route.fulfill({ response, json: body });
    });
    // Act
    await open(page);
    const down = await page.getByTestId('status').textContent();
    await page.unroute('**/dashboard/data*');
    await page.route('**/dashboard/data*', (route) =>
      route.fulfill({ status: 503, json: { error: 'table_unavailable', message: 'try again' } }),
    );
    await page.getByLabel('Country', { exact: true }).selectOption(COUNTRY);
    await page.getByTestId('status').filter({ hasText: 'failed' }).waitFor();
    const failed = await page.getByTestId('status').textContent();
    // Assess
    expect(down).toContain("the marts' snapshot");
    expect(failed).toContain('503');
    expect(await page.getByTestId('status').getAttribute('data-kind')).toBe('error');
    await page.close();
  });
});
