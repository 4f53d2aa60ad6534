// The ecomflow dashboard: fetches GET /dashboard/data for the filter and draws what it answers. Every figure
// comes from the marts through that answer; the page computes none (it only formats and slices for show).
// A plain browser module, no build step. The auth script (window.ecomflowAuth) runs before it; chart.js's
// UMD build (window.Chart) runs after it, while the first data request is under way, and is waited for
// before anything is drawn.

/** The data route, beside this file whatever prefix (a stage on AWS) the API is served under. */
const DATA_URL = new URL('data', import.meta.url);
/** How many products the unit-sales chart shows; its table lists them all. */
const UNITS_CHART_PRODUCTS = 15;
/** The mark the speed bench reads: set once, when every tile of the first answer is drawn. */
const DRAWN_MARK = 'dashboard-drawn';

const WHAT_IS_DOWN = {
  snapshot: "the marts' snapshot (written by each refresh) cannot be read",
  audit: 'the last audit result cannot be read',
};

const $ = (id) => document.getElementById(id);
const money = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 3 });
const count = new Intl.NumberFormat('en-GB');
const percent = new Intl.NumberFormat('en-GB', { style: 'percent', maximumFractionDigits: 2 });
const charts = new Map();
/** Deferred scripts have all run by DOMContentLoaded, chart.js included. */
const chartReady = window.Chart
  ? Promise.resolve()
  : new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
let latest = 0;
let countriesFilled = false;

/** Sets a figure's text and its exact value (`data-value`, which the browser test reads). */
function figure(id, testValue, text) {
  const el = document.querySelector(`[data-testid="${id}"]`);
  el.textContent = text;
  if (testValue === null || testValue === undefined) el.removeAttribute('data-value');
  else el.dataset.value = String(testValue);
}

/** A table row of cells; a cell is text, or `{ text, value, testid, num }`. */
function row(cells, testid) {
  const tr = document.createElement('tr');
  if (testid) tr.dataset.testid = testid;
  for (const cell of cells) {
    const td = document.createElement('td');
    const c = typeof cell === 'object' && cell !== null ? cell : { text: cell };
    td.textContent = c.text ?? '';
    if (c.value !== undefined) td.dataset.value = String(c.value);
    if (c.testid) td.dataset.testid = c.testid;
    if (c.num) td.className = 'num';
    tr.append(td);
  }
  return tr;
}

function fillTable(id, rows) {
  $(id).replaceChildren(...rows);
}

function draw(id, config, label) {
  charts.get(id)?.destroy();
  const canvas = $(id);
  canvas.setAttribute('aria-label', label);
  canvas.textContent = label;
  // No animation: the first render is the answer drawn, and the bench's mark follows it at once.
  const chart = new window.Chart(canvas, {
    ...config,
    options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options },
  });
  charts.set(id, chart);
}

const productName = (p) => p.description ?? p.stock_code;

function drawRevenue(revenue) {
  figure('revenue-total', revenue.total, money.format(revenue.total));
  figure('revenue-last7', revenue.last7Days, money.format(revenue.last7Days));
  figure('revenue-last30', revenue.last30Days, money.format(revenue.last30Days));
  const days = revenue.daily;
  const best = days.reduce((a, d) => (a === null || d.revenue > a.revenue ? d : a), null);
  draw(
    'chart-daily',
    {
      type: 'line',
      data: {
        labels: days.map((d) => d.day),
        datasets: [{ label: 'Revenue', data: days.map((d) => d.revenue), pointRadius: 0, borderWidth: 1.5 }],
      },
      options: { plugins: { legend: { display: false } } },
    },
    days.length === 0
      ? 'Daily revenue line chart: no days with sales in this range.'
      : `Daily revenue line chart over ${days.length} days with sales, from ${days[0].day} to ${days[days.length - 1].day}; ` +
          `total ${money.format(revenue.total)}; highest ${best.day} with ${money.format(best.revenue)}.`,
  );
  fillTable(
    'table-daily',
    days.map((d) =>
      row([
        d.day,
        { text: money.format(d.revenue), value: d.revenue, num: true, testid: `daily-revenue-${d.day}` },
      ]),
    ),
  );
}

function drawProducts(products) {
  draw(
    'chart-products',
    {
      type: 'bar',
      data: {
        labels: products.map(productName),
        datasets: [{ label: 'Revenue', data: products.map((p) => p.revenue) }],
      },
      options: { indexAxis: 'y', plugins: { legend: { display: false } } },
    },
    products.length === 0
      ? 'Top products bar chart: no sales in this range.'
      : `Top ${products.length} products by revenue, bar chart; first ${productName(products[0])} (${products[0].stock_code}) ` +
          `with ${money.format(products[0].revenue)}.`,
  );
  fillTable(
    'table-products',
    products.map((p) =>
      row(
        [
          String(p.rank),
          { text: p.stock_code, testid: `top-product-${p.rank}-code` },
          { text: p.description ?? '', testid: `top-product-${p.rank}-description` },
          { text: count.format(p.units), value: p.units, num: true, testid: `top-product-${p.rank}-units` },
          {
            text: money.format(p.revenue),
            value: p.revenue,
            num: true,
            testid: `top-product-${p.rank}-revenue`,
          },
        ],
        `top-product-${p.rank}`,
      ),
    ),
  );
}

function drawUnits(lastMonth) {
  $('units-month').textContent = lastMonth.month ? `(${lastMonth.month.slice(0, 7)})` : '';
  const shown = lastMonth.products.slice(0, UNITS_CHART_PRODUCTS);
  draw(
    'chart-units',
    {
      type: 'bar',
      data: {
        labels: shown.map(productName),
        datasets: [{ label: 'Units', data: shown.map((p) => p.units) }],
      },
      options: { indexAxis: 'y', plugins: { legend: { display: false } } },
    },
    shown.length === 0
      ? "Last month's unit sales: no sales in this range."
      : `Unit sales in ${lastMonth.month.slice(0, 7)}, bar chart of the ${shown.length} products sold most of ` +
          `${lastMonth.products.length}; first ${productName(shown[0])} with ${count.format(shown[0].units)} units.`,
  );
  // Every product sold that month (thousands of rows): built when the table is opened, not before the
  // first render.
  unitsRows = () =>
    lastMonth.products.map((p) =>
      row([p.stock_code, p.description ?? '', { text: count.format(p.units), value: p.units, num: true }]),
    );
  if ($('details-units').open) fillTable('table-units', unitsRows());
  else $('table-units').replaceChildren();
}

/** The rows of the unit-sales table for the answer drawn last. */
let unitsRows = () => [];
$('details-units').addEventListener('toggle', () => {
  if ($('details-units').open && $('table-units').childElementCount === 0)
    fillTable('table-units', unitsRows());
});

function drawCountries(rows) {
  const months = [...new Set(rows.map((r) => r.month))];
  const countries = [...new Set(rows.map((r) => r.country))];
  const at = new Map(rows.map((r) => [`${r.month}|${r.country}`, r.revenue]));
  draw(
    'chart-countries',
    {
      type: 'bar',
      data: {
        labels: months.map((m) => m.slice(0, 7)),
        datasets: countries.map((c) => ({ label: c, data: months.map((m) => at.get(`${m}|${c}`) ?? 0) })),
      },
      options: {
        scales: { x: { stacked: true }, y: { stacked: true } },
        plugins: { legend: { display: countries.length <= 8 } },
      },
    },
    rows.length === 0
      ? 'Revenue by country and month: no sales in this range.'
      : `Revenue by month, stacked bar chart of ${countries.length} countries over ${months.length} months, ` +
          `${months[0].slice(0, 7)} to ${months[months.length - 1].slice(0, 7)}.`,
  );
  fillTable(
    'table-countries',
    rows.map((r) =>
      row([r.month.slice(0, 7), r.country, { text: money.format(r.revenue), value: r.revenue, num: true }]),
    ),
  );
}

function drawCancellations(rows) {
  draw(
    'chart-cancellations',
    {
      data: {
        labels: rows.map((r) => r.month.slice(0, 7)),
        datasets: [
          { type: 'bar', label: 'Value cancelled', data: rows.map((r) => r.cancelled_value), yAxisID: 'y' },
          { type: 'line', label: 'Rate', data: rows.map((r) => r.cancellation_rate), yAxisID: 'rate' },
        ],
      },
      options: {
        scales: {
          y: { position: 'left', title: { display: true, text: 'value' } },
          rate: {
            position: 'right',
            min: 0,
            grid: { drawOnChartArea: false },
            title: { display: true, text: 'rate' },
          },
        },
      },
    },
    rows.length === 0
      ? 'Cancellations: none in this range.'
      : `Cancellations by month, bars of the value cancelled and a line of the rate, ${rows.length} months of ` +
          `${rows[0].country}; highest rate ${percent.format(Math.max(...rows.map((r) => r.cancellation_rate)))}.`,
  );
  fillTable(
    'table-cancellations',
    rows.map((r) =>
      row([
        r.month.slice(0, 7),
        r.country,
        { text: money.format(r.cancelled_value), value: r.cancelled_value, num: true },
        { text: percent.format(r.cancellation_rate), value: r.cancellation_rate, num: true },
      ]),
    ),
  );
}

function drawRfm(segments) {
  draw(
    'chart-rfm',
    {
      type: 'bar',
      data: {
        labels: segments.map((s) => s.segment.replace('_', ' ')),
        datasets: [{ label: 'Customers', data: segments.map((s) => s.customers) }],
      },
      options: { plugins: { legend: { display: false } } },
    },
    segments.length === 0
      ? 'Customer segments: no known customers.'
      : `Customers by RFM segment, bar chart: ${segments.map((s) => `${s.segment.replace('_', ' ')} ${count.format(s.customers)}`).join(', ')}.`,
  );
  fillTable(
    'table-rfm',
    segments.map((s) =>
      row(
        [
          s.segment.replace('_', ' '),
          { text: count.format(s.customers), value: s.customers, num: true },
          { text: money.format(s.monetary), value: s.monetary, num: true },
        ],
        `rfm-${s.segment}`,
      ),
    ),
  );
}

/** "3 min ago" for an ISO time, beside the time itself. */
function ago(iso) {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  const span =
    seconds < 120
      ? `${seconds} s`
      : seconds < 7200
        ? `${Math.round(seconds / 60)} min`
        : `${Math.round(seconds / 3600)} h`;
  return `${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} (${span} ago)`;
}

function drawHealth(view) {
  const h = view.health;
  const w = h.warehouse;
  figure('health-raw', w?.rawLines, w ? count.format(w.rawLines) : 'unknown');
  figure('health-staging', w?.stagingLines, w ? count.format(w.stagingLines) : 'unknown');
  figure(
    'health-newest-invoice',
    w?.newestInvoiceAt,
    w?.newestInvoiceAt ? w.newestInvoiceAt.replace('T', ' ') : 'none',
  );
  figure('health-last-delivery', w?.lastDeliveryAt, w ? ago(w.lastDeliveryAt) : 'unknown');
  figure(
    'health-dead-letters',
    h.deadLetters,
    h.deadLetters === null ? 'unknown (no audit yet)' : count.format(h.deadLetters),
  );
  figure('health-refreshed', view.refreshedAt, ago(view.refreshedAt));
  figure(
    'health-audit',
    h.audit ? String(h.audit.agrees) : null,
    h.audit
      ? `${h.audit.agrees ? 'the stores agree' : 'the stores DISAGREE'}, ${ago(h.audit.ranAt)}`
      : 'no audit has run',
  );
  fillTable(
    'table-quarantine',
    h.quarantinedByReason === null
      ? [row(['no audit has run', ''])]
      : h.quarantinedByReason.length === 0
        ? [row(['nothing quarantined', { text: '0', value: 0, num: true }])]
        : h.quarantinedByReason.map((q) =>
            row(
              [q.reason, { text: count.format(q.quarantined), value: q.quarantined, num: true }],
              `quarantine-${q.reason}`,
            ),
          ),
  );
}

function fillFilters(view) {
  const from = $('filter-from');
  const to = $('filter-to');
  if (view.days) {
    for (const input of [from, to]) {
      input.min = view.days.first;
      input.max = view.days.last;
    }
    if (!from.value) from.value = view.filter.from ?? view.days.first;
    if (!to.value) to.value = view.filter.to ?? view.days.last;
  }
  if (!countriesFilled && view.countries.length > 0) {
    const select = $('filter-country');
    for (const country of view.countries) select.append(new Option(country, country));
    countriesFilled = true;
  }
}

function say(text, kind = 'info') {
  const status = $('status');
  status.textContent = text;
  status.dataset.kind = kind;
}

function render(view, query) {
  const { unavailable } = view.health;
  const empty = view.refreshedAt === null && !unavailable.includes('snapshot');
  $('empty').hidden = !empty;
  $('refreshed-at').textContent = view.refreshedAt ?? 'never';
  fillFilters(view);
  drawRevenue(view.revenue);
  drawProducts(view.topProducts);
  drawUnits(view.lastMonthUnits);
  drawCountries(view.revenueByCountryMonth);
  drawCancellations(view.cancellations);
  drawRfm(view.rfmSegments);
  drawHealth(view);
  if (unavailable.length > 0) {
    say(
      `Part of the dashboard is down: ${unavailable.map((p) => WHAT_IS_DOWN[p] ?? p).join('; ')}.`,
      'error',
    );
  } else {
    say(empty ? 'No data yet.' : `Showing ${describeFilter(view.filter)}.`);
  }
  const main = $('tiles');
  main.dataset.loaded = query;
  main.setAttribute('aria-busy', 'false');
}

function describeFilter(filter) {
  const range =
    filter.from || filter.to
      ? `${filter.from ?? 'the start'} to ${filter.to ?? 'the end'}`
      : 'the whole period';
  return `${range}, ${filter.country ?? 'all countries'}`;
}

function currentQuery() {
  const params = new URLSearchParams();
  for (const [name, id] of [
    ['from', 'filter-from'],
    ['to', 'filter-to'],
    ['country', 'filter-country'],
  ]) {
    const value = $(id).value;
    if (value) params.set(name, value);
  }
  return params.toString();
}

async function load(query) {
  const mine = ++latest;
  $('tiles').setAttribute('aria-busy', 'true');
  let response;
  try {
    const headers = (await window.ecomflowAuth?.headers?.()) ?? {};
    response = await fetch(query ? `${DATA_URL}?${query}` : DATA_URL, { headers });
  } catch (error) {
    if (mine === latest)
      say(`The dashboard's data request failed: ${error.message}. The API may be down.`, 'error');
    return false;
  }
  if (mine !== latest) return false;
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    say(
      `The dashboard's data request failed (${response.status}${body.error ? ` ${body.error}` : ''}): ${body.message ?? response.statusText}`,
      'error',
    );
    $('tiles').setAttribute('aria-busy', 'false');
    return false;
  }
  const view = await response.json();
  await chartReady;
  if (mine !== latest) return false;
  render(view, query);
  return true;
}

$('filters').addEventListener('change', () => {
  void load(currentQuery());
});
$('filters').addEventListener('reset', () => {
  // After the form has reset its controls: the whole period, every country.
  setTimeout(() => {
    $('filter-from').value = '';
    $('filter-to').value = '';
    void load('');
  });
});
$('filters').addEventListener('submit', (event) => {
  event.preventDefault();
  void load(currentQuery());
});

if (await load('')) performance.mark(DRAWN_MARK);
