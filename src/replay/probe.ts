import { REPLAY_ERROR_CODES, ReplayError } from './errors.js';
import { retryDelayMs } from './retry.js';
import { REPLAY_DEFAULTS, type ReplaySession, reason, sleep } from './session.js';

/** The invoice a probe polls, and the ids of the lines a POST carried for it. */
export interface ProbeTarget {
  invoiceNo: string;
  lineIds: string[];
}

/**
 * Polls `GET /invoices/{no}` until the invoice lists every id in `target.lineIds`. A sampled probe records
 * the time since `postedAt` as a freshness figure and gives up after the probe timeout; a drain probe waits
 * up to the drain timeout. Resolves to whether the lines were seen.
 */
export async function probeInvoice(
  session: ReplaySession,
  target: ProbeTarget,
  postedAt: number,
  sample: boolean,
): Promise<boolean> {
  const { invoiceNo, lineIds } = target;
  const settings = session.probes;
  const url = `${session.apiUrl}/invoices/${encodeURIComponent(invoiceNo)}`;
  const deadline = postedAt + (sample ? settings.probeTimeoutMs : settings.drainTimeoutMs);
  let unreachable = 0;
  while (!session.aborted) {
    let response: Response;
    try {
      response = await fetch(url, { headers: { 'x-api-key': session.apiKey }, signal: session.signal() });
      unreachable = 0;
    } catch (error) {
      if (session.aborted) return false;
      if (++unreachable >= REPLAY_DEFAULTS.attempts) {
        session.fail(
          new ReplayError(
            REPLAY_ERROR_CODES.unavailable,
            `GET /invoices/${invoiceNo} failed ${unreachable} times, last: ${reason(error)}`,
            { cause: error },
          ),
        );
        return false;
      }
      await sleep(retryDelayMs(null, unreachable));
      continue;
    }
    const body = (await response.json().catch(() => ({}))) as { lines?: { line_id?: string }[] };
    if (response.status === 429 && performance.now() < deadline) {
      // The gateway is at its limit of requests in flight: a probe waits its turn, as a client would.
      await sleep(retryDelayMs(response.headers.get('retry-after'), 1));
      continue;
    }
    const now = performance.now();
    if (response.status === 200 && listsAll(body.lines ?? [], lineIds)) {
      if (sample) session.times.freshness.push(now - postedAt);
      session.times.lastVisible = Math.max(session.times.lastVisible, now);
      return true;
    }
    if (response.status !== 200 && response.status !== 404) {
      session.fail(
        new ReplayError(
          REPLAY_ERROR_CODES.refused,
          `GET /invoices/${invoiceNo} answered ${response.status}: ${JSON.stringify(body)}`,
        ),
      );
      return false;
    }
    if (performance.now() >= deadline) {
      if (sample) session.summary.freshness.timed_out++;
      return false;
    }
    // Poll often while the wait is short and less as it grows: the error stays within ~5% of the
    // figure, and a backlog is not made worse by the probes' own reads.
    const waited = performance.now() - postedAt;
    await sleep(Math.min(250, Math.max(settings.probeIntervalMs, waited * 0.05)));
  }
  return false;
}

/**
 * The freshness probes under way. At most `maxProbes` run at once; a POST answered while all are busy is
 * counted as not sampled rather than queued, since a late probe would measure its own wait.
 */
export class FreshnessProbes {
  private readonly running = new Set<Promise<boolean>>();

  constructor(private readonly session: ReplaySession) {}

  /** Samples the freshness of `target`, posted at `postedAt`, if a probe slot is free. */
  sample(target: ProbeTarget, postedAt: number): void {
    const freshness = this.session.summary.freshness;
    if (this.running.size >= this.session.probes.maxProbes) {
      freshness.skipped++;
      return;
    }
    freshness.probes++;
    const p = probeInvoice(this.session, target, postedAt, true).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Waits for every probe under way. */
  async settle(): Promise<void> {
    await Promise.all(this.running);
  }
}

function listsAll(lines: readonly { line_id?: string }[], ids: readonly string[]): boolean {
  const listed = new Set(lines.map((l) => l.line_id));
  return ids.every((id) => listed.has(id));
}
