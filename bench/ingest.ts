/**
 * Ingest under load on the local stack (the reliability issue's "Load" and "Burst"):
 * - **sustained**: 60 s of POST /ingest with 500-row CSV bodies of the real data (autocannon, 8 clients:
 *   the gateway's bound on requests with a body), requests/s, lines/s, latency p50/p99, answers by status,
 *   the stack's RSS every 5 s; then every line of every 202 is waited for in the warehouse;
 * - **burst**: 48 concurrent 5 MB bodies, with GET /health timed every 100 ms during and after (from a
 *   process of its own, watchHealth), and the RSS
 *   30 s after the burst and once the stream has stored every accepted row.
 * The reference in the same run is GET /health's latency on the idle stack.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { PgWarehouse } from '../src/adapters/pg-warehouse.js';
import { MAX_BODY_BYTES } from '../src/api/ingest/ingest.js';
import { LineCleaner } from '../src/core/line-cleaner.js';
import { GATEWAY_LIMITS } from '../src/local/gateway.js';
import { readStackInfo } from '../src/local/stack.js';
import { withFreshStack } from './replay.js';

export const SUSTAINED = {
  seconds: 60,
  rowsPerBody: 500,
  clients: GATEWAY_LIMITS.inFlight.withBody,
} as const;
export const BURST = { bodies: 48, quietAfterMs: 30_000, idleAfterArrivalMs: 10_000 } as const;

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

/** The resident set of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Samples `pid`'s RSS every `everyMs` until stopped. */
function sampleRss(pid: number, everyMs: number) {
  const samples: { atMs: number; bytes: number }[] = [];
  const started = performance.now();
  const timer = setInterval(
    () => samples.push({ atMs: performance.now() - started, bytes: rssBytes(pid) }),
    everyMs,
  );
  return {
    samples,
    stop: () => clearInterval(timer),
  };
}

/** The real data's rows in bodies of `rows` rows (CSV, with the header), and each body's clean line ids. */
function bodies(realData: string, rows: number): { body: string; lineIds: string[] }[] {
  const text = gunzipSync(readFileSync(realData)).toString('latin1');
  const lines = text.split(/\r?\n/).filter(Boolean);
  const header = lines[0]!;
  const out: { body: string; lineIds: string[] }[] = [];
  for (let i = 1; i < lines.length; i += rows) {
    const body = `${header}\n${lines.slice(i, i + rows).join('\n')}\n`;
    const lineIds: string[] = [];
    const cleaner = new LineCleaner({ line: (l) => lineIds.push(l.line_id), reject: () => {} });
    cleaner.push(body);
    cleaner.end();
    out.push({ body, lineIds });
  }
  return out;
}

/**
 * The prober's loop, run in a process of its own: it writes each GET /health's milliseconds (and 0 or 1
 * for a failure) as a line, until its stdin closes. Timed from this bench's own process, the answers also
 * waited for this process, which holds every body and sends 48 of 5 MB at once: its collections added
 * seconds that were not the stack's.
 */
const HEALTH_PROBE = `
const url = process.argv[1];
let running = true;
process.stdin.on('end', () => { running = false; });
process.stdin.resume();
(async () => {
  while (running) {
    const at = performance.now();
    const ok = await fetch(url, { signal: AbortSignal.timeout(10_000) }).then((r) => r.status === 200, () => false);
    process.stdout.write(\`\${performance.now() - at} \${ok ? 1 : 0}\\n\`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
})();
`;

/** Times GET /health every 100 ms from a separate process until stopped: the slowest answer, and failures. */
function watchHealth(apiUrl: string) {
  let slowestMs = 0;
  let failed = 0;
  let pending = '';
  const child = spawn(process.execPath, ['-e', HEALTH_PROBE, `${apiUrl}/health`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const [ms, ok] = line.split(' ');
      slowestMs = Math.max(slowestMs, Number(ms));
      if (ok !== '1') failed++;
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    /** The slowest answer so far. */
    slowestSoFarMs: () => slowestMs,
    async stop() {
      child.stdin.end();
      await exited;
      return { slowestMs, failed };
    },
  };
}

/** raw.invoice_lines' rows, every copy counted. */
async function rawRows(url: string): Promise<number> {
  const warehouse = new PgWarehouse(url);
  try {
    const [row] = await warehouse.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM "raw".invoice_lines');
    return row!.n;
  } finally {
    await warehouse.close();
  }
}

/** Waits until raw.invoice_lines has at least `expected` rows, or stops growing for 60 s. */
async function waitForRawRows(url: string, expected: number): Promise<{ rows: number; ms: number }> {
  const started = performance.now();
  let rows = await rawRows(url);
  let lastGrowth = performance.now();
  while (rows < expected && performance.now() - lastGrowth < 60_000) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const now = await rawRows(url);
    if (now > rows) lastGrowth = performance.now();
    rows = now;
  }
  return { rows, ms: performance.now() - started };
}

/** Waits until the warehouse holds `expected` distinct lines, or stops growing for 30 s. */
async function waitForWarehouse(url: string, expected: number): Promise<{ held: number; ms: number }> {
  const warehouse = new PgWarehouse(url);
  const started = performance.now();
  let held = 0;
  let lastGrowth = performance.now();
  try {
    while (held < expected && performance.now() - lastGrowth < 30_000) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const [row] = await warehouse.query<{ n: number }>(
        'SELECT COUNT(DISTINCT line_id)::int AS n FROM "raw".invoice_lines',
      );
      if (row!.n > held) lastGrowth = performance.now();
      held = row!.n;
    }
  } finally {
    await warehouse.close();
  }
  return { held, ms: performance.now() - started };
}

export async function benchIngest(realData: string): Promise<string> {
  return withFreshStack(async ({ home, stack }) => {
    const info = await readStackInfo(home);
    const headers = { 'x-api-key': info.apiKey, 'content-type': 'text/csv' };

    // Reference: GET /health on the idle stack.
    const idle = await autocannon({ url: `${info.apiUrl}/health`, connections: 1, duration: 5 });

    // Sustained.
    const chunks = bodies(realData, SUSTAINED.rowsPerBody);
    const accepted = new Set<number>();
    let rowsAccepted = 0;
    let next = 0;
    const statuses = new Map<number, number>();
    const rss = sampleRss(info.pid, 5000);
    const baseRss = rssBytes(info.pid);
    const load = await autocannon({
      url: info.apiUrl,
      connections: SUSTAINED.clients,
      duration: SUSTAINED.seconds,
      requests: [
        {
          method: 'POST',
          path: '/ingest',
          headers,
          setupRequest: (request, context) => {
            const index = next++ % chunks.length;
            (context as { chunk?: number }).chunk = index;
            return { ...request, body: chunks[index]!.body };
          },
          onResponse: (status, body, context) => {
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status !== 202) return;
            const index = (context as { chunk: number }).chunk;
            const answer = JSON.parse(body) as { accepted: number; received: number };
            rowsAccepted += answer.accepted;
            if (answer.accepted === chunks[index]!.lineIds.length) accepted.add(index);
          },
        },
      ],
    });
    rss.stop();
    const expected = new Set([...accepted].flatMap((i) => chunks[i]!.lineIds)).size;
    const arrival = await waitForWarehouse(info.warehouseUrl, expected);

    // Burst: 48 bodies of about 5 MB each, all at once, /health timed throughout.
    const bigRows = Math.floor((MAX_BODY_BYTES * 0.95) / (chunks[0]!.body.length / SUSTAINED.rowsPerBody));
    const big = bodies(realData, bigRows).slice(0, BURST.bodies);
    while (big.length < BURST.bodies) big.push(big[big.length % Math.max(1, big.length)]!);
    const rawBefore = await rawRows(info.warehouseUrl);
    const health = watchHealth(info.apiUrl);
    const burstRss = sampleRss(info.pid, 1000);
    const burstStarted = performance.now();
    let burstAccepted = 0;
    const answers = await Promise.all(
      big.map((b) =>
        fetch(`${info.apiUrl}/ingest`, { method: 'POST', headers, body: b.body }).then(
          async (r) => {
            if (r.status === 202) burstAccepted += ((await r.json()) as { accepted: number }).accepted;
            return r.status;
          },
          () => 0,
        ),
      ),
    );
    const burstMs = performance.now() - burstStarted;
    await new Promise((resolve) => setTimeout(resolve, BURST.quietAfterMs));
    const afterRss = rssBytes(info.pid);
    const slowestIn30sMs = health.slowestSoFarMs();
    // The burst's bodies hold lines stored before, so its arrival shows in raw's rows (every copy), not
    // in its distinct lines: wait until raw holds every accepted row once more, then let the stack idle.
    const drained = await waitForRawRows(info.warehouseUrl, rawBefore + burstAccepted);
    await new Promise((resolve) => setTimeout(resolve, BURST.idleAfterArrivalMs));
    const healthDuring = await health.stop();
    burstRss.stop();
    const drainedRss = rssBytes(info.pid);
    await stack.stop();

    const byStatus = (counts: Map<number, number>) =>
      [...counts]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}: ${n.toLocaleString('en-US')}`)
        .join(', ');
    const burstStatuses = new Map<number, number>();
    for (const s of answers) burstStatuses.set(s, (burstStatuses.get(s) ?? 0) + 1);
    const peak = Math.max(...burstRss.samples.map((s) => s.bytes));
    const seconds = SUSTAINED.seconds;
    return [
      `### Ingest under load (local stack, real data bodies; RSS is the \`ecomflow up\` process with its emulator threads, PostgreSQL apart)`,
      '',
      `Reference, same run: GET /health on the idle stack, p50 ${idle.latency.p50} ms, p99 ${idle.latency.p99} ms.`,
      '',
      `**Sustained** (${seconds} s, ${SUSTAINED.clients} clients, ${SUSTAINED.rowsPerBody}-row CSV bodies):`,
      '',
      '| requests/s | lines/s accepted | p50 | p99 | answers by status | RSS at start | RSS every 5 s |',
      '|---|---|---|---|---|---|---|',
      `| ${Math.round(load.requests.average)} | ${Math.round(rowsAccepted / seconds).toLocaleString('en-US')} | ${load.latency.p50} ms | ${load.latency.p99} ms | ${byStatus(statuses)}${load.errors ? `, errors: ${load.errors}` : ''} | ${mb(baseRss)} | ${rss.samples.map((s) => mb(s.bytes)).join(' · ')} |`,
      '',
      `Every line of every 202: ${expected.toLocaleString('en-US')} distinct lines; the warehouse held ${arrival.held.toLocaleString('en-US')} of them ${(arrival.ms / 1000).toFixed(1)} s after the load (${arrival.held === expected ? 'all arrived' : '**not all arrived**'}).`,
      '',
      `**Burst** (${BURST.bodies} concurrent bodies of ${mb(big[0]!.body.length)}):`,
      '',
      '| answers by status | burst took | slowest GET /health: during and 30 s after / until the lines arrived | failed /health | RSS peak | RSS 30 s after | RSS once its lines arrived | goals: no 500, /health < 1 s, RSS after < 1 GB |',
      '|---|---|---|---|---|---|---|---|',
      `| ${byStatus(burstStatuses)} | ${(burstMs / 1000).toFixed(1)} s | ${Math.round(slowestIn30sMs)} ms / ${Math.round(healthDuring.slowestMs)} ms | ${healthDuring.failed} | ${mb(peak)} | ${mb(afterRss)} | ${mb(drainedRss)} | ${!burstStatuses.has(500) && healthDuring.slowestMs < 1000 && drainedRss < 1024 ** 3 ? 'met' : '**missed**'} |`,
      '',
      `The burst's ${burstAccepted.toLocaleString('en-US')} accepted rows were all in raw ${(drained.ms / 1000).toFixed(0)} s after the 30 s (${drained.rows >= rawBefore + burstAccepted ? 'all arrived' : '**not all arrived**'}); the last RSS is ${BURST.idleAfterArrivalMs / 1000} s after that. The stack ran with STACK_PROCESS_ENV (glibc's fixed mmap threshold), as \`npm start\` runs it.`,
      '',
      `A 429 is the gateway's bound (${GATEWAY_LIMITS.inFlight.withBody} requests with a body, ${GATEWAY_LIMITS.inFlight.bodyBytes / 1024 / 1024} MB of bodies in flight), answered with Retry-After; a client that honours it (as \`ecomflow replay\` does) sends the body again.`,
      '',
    ].join('\n');
  });
}
