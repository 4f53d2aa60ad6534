/**
 * API look-ups under load: GET /invoices/{no} and GET /customers/{id}/invoices on the local stack with the
 * real data replayed into it, 50 concurrent clients for 30 s each (autocannon), beside GET /health under
 * the same load in the same run (the gateway and the handler without DynamoDB).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { readStackInfo } from '../src/local/stack.js';
import { replayJson, withFreshStack } from './replay.js';

/** Latency in milliseconds, as autocannon measures it. */
const ms = (value: number) => `${value.toFixed(1)} ms`;

/** The load: 50 clients, 30 s a route. */
export const LOOKUP_LOAD = { connections: 50, seconds: 30 } as const;
/** How many invoice numbers and customer ids the clients cycle through. */
const SAMPLE = 2_000;

export interface LookupFigures {
  route: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Answers other than 2xx, and transport errors: a look-up that failed is not a fast look-up. */
  non2xx: number;
  errors: number;
}

/** Invoice numbers and customer ids of rows that have both: they were stored. */
function sampleKeys(realData: string): { invoices: string[]; customers: string[] } {
  const invoices = new Set<string>();
  const customers = new Set<string>();
  const rows = gunzipSync(readFileSync(realData)).toString('latin1').split('\n');
  // Every 97th row, so that the sample spans the year rather than its first days.
  for (let i = 1; i < rows.length && (invoices.size < SAMPLE || customers.size < SAMPLE); i += 97) {
    const fields = rows[i]!.split(',');
    const invoice = fields[0]!;
    const customer = fields[fields.length - 2]!;
    if (!/^C?\d{6}$/.test(invoice) || !/^\d+(\.0)?$/.test(customer)) continue;
    if (invoices.size < SAMPLE) invoices.add(invoice);
    if (customers.size < SAMPLE) customers.add(customer.replace(/\.0$/, ''));
  }
  return { invoices: [...invoices], customers: [...customers] };
}

/** One route under the load; `path(i)` gives the i-th request's path. */
async function measure(
  baseUrl: string,
  route: string,
  headers: Record<string, string>,
  path: (i: number) => string,
): Promise<LookupFigures> {
  let n = 0;
  const result = await autocannon({
    url: baseUrl,
    connections: LOOKUP_LOAD.connections,
    duration: LOOKUP_LOAD.seconds,
    headers,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => {
          request.path = path(n++);
          return request;
        },
      },
    ],
  });
  return {
    route,
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** Measures the look-ups on a running stack. */
export async function lookupLatency(
  baseUrl: string,
  headers: Record<string, string>,
  keys: { invoices: string[]; customers: string[] },
): Promise<LookupFigures[]> {
  const pick = (list: string[], i: number) => list[i % list.length]!;
  return [
    await measure(baseUrl, 'GET /health (reference)', {}, () => '/health'),
    await measure(
      baseUrl,
      'GET /invoices/{invoiceNo}',
      headers,
      (i) => `/invoices/${pick(keys.invoices, i)}`,
    ),
    await measure(
      baseUrl,
      'GET /customers/{customerId}/invoices',
      headers,
      (i) => `/customers/${pick(keys.customers, i)}/invoices`,
    ),
  ];
}

/** A new stack, the real data replayed into it, then the look-ups measured. */
export async function benchLookups(realData: string): Promise<string> {
  return withFreshStack(async ({ home, vars, stack }) => {
    const replay = await replayJson(realData, vars, ['--rate', '0']);
    const { apiKey } = await readStackInfo(home);
    const figures = await lookupLatency(
      `http://127.0.0.1:${vars['PORT']}`,
      { 'x-api-key': apiKey },
      sampleKeys(realData),
    );
    await stack.stop();
    const [health] = figures;
    // A look-up that was refused (429) or failed is no evidence of speed: the goal needs every answer a 2xx.
    const goal = (f: LookupFigures) =>
      f.route.includes('reference') ? '' : f.p99 < 50 && f.non2xx + f.errors === 0 ? 'met' : '**missed**';
    return [
      `### API look-ups under load (${LOOKUP_LOAD.connections} clients, ${LOOKUP_LOAD.seconds} s a route, real data replayed: ${replay.accepted.toLocaleString('en-US')} rows)`,
      '',
      '| route | requests | requests/s | p50 | p99 | non-2xx / errors | goal p99 < 50 ms |',
      '|---|---|---|---|---|---|---|',
      ...figures.map(
        (f) =>
          `| ${f.route} | ${f.requests.toLocaleString('en-US')} | ${Math.round(f.rps).toLocaleString('en-US')} | ${ms(f.p50)} | ${ms(f.p99)} | ${f.non2xx} / ${f.errors} | ${goal(f)} |`,
      ),
      '',
      `The clients cycle through ${SAMPLE.toLocaleString('en-US')} invoice numbers and customer ids taken across the year. ` +
        `GET /health runs the gateway, the router and the handler with no store: what is left above its ${ms(health!.p99)} p99 is DynamoDB (dynalite) and the items' shaping.`,
      '',
    ].join('\n');
  });
}
