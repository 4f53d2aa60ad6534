/**
 * `ecomflow replay` as a child process beside a running stack, and what it acknowledged: for the tests
 * that stop or kill the stack under load and then look for every acknowledged line in the stores.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { CLI, childEnv, eventually, lakeQuery, ROOT, warehouseQuery } from './stack-process.js';

export interface ReplayProcess {
  child: ChildProcess;
  /** Resolves to the exit code once the replay has ended. */
  exited: Promise<number | null>;
  output(): { stdout: string; stderr: string };
}

/** Spawns `ecomflow replay <data> --rate <rate> --ack-log <ackLog> --json`. */
export function startReplay(
  data: string,
  ackLog: string,
  rate: number,
  vars: Record<string, string>,
): ReplayProcess {
  const child = spawn(
    process.execPath,
    [CLI, 'replay', data, '--rate', String(rate), '--ack-log', ackLog, '--json'],
    { cwd: ROOT, env: childEnv(vars), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** The acknowledged rows the replay logged: line_id to invoice. */
export async function readAckLog(path: string): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  for (const line of (await readFile(path, 'utf8').catch(() => '')).split('\n')) {
    const [lineId, invoiceNo] = line.split('\t');
    if (lineId && invoiceNo) acked.set(lineId, invoiceNo);
  }
  return acked;
}

/** Lines of a file that end with a newline (0 when there is no file). */
export async function countLines(path: string): Promise<number> {
  return (await readFile(path, 'utf8').catch(() => '')).split('\n').length - 1;
}

/** The line ids each invoice's GET lists, duplicates included. */
export async function listedLines(
  apiUrl: string,
  apiKey: string,
  invoices: Iterable<string>,
): Promise<Map<string, string[]>> {
  const listed = new Map<string, string[]>();
  const queue = [...new Set(invoices)];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let no = queue.pop(); no !== undefined; no = queue.pop()) {
        const response = await fetch(`${apiUrl}/invoices/${encodeURIComponent(no)}`, {
          headers: { 'x-api-key': apiKey },
        });
        const body = (await response.json()) as { lines?: { line_id: string }[] };
        listed.set(
          no,
          (body.lines ?? []).map((l) => l.line_id),
        );
      }
    }),
  );
  return listed;
}

/** The invoices whose GET does not yet list every acknowledged line. */
export async function incompleteInvoices(
  apiUrl: string,
  apiKey: string,
  acked: Map<string, string>,
): Promise<string[]> {
  const listed = await listedLines(apiUrl, apiKey, acked.values());
  return [...listed]
    .filter(([no, ids]) => {
      const have = new Set(ids);
      return [...acked].some(([id, invoice]) => invoice === no && !have.has(id));
    })
    .map(([no]) => no);
}

/** DuckDB SQL over the ack log, as a table `a(line_id, invoice_no)`, for `ecomflow query`. */
export function ackLogTable(ackLog: string): string {
  return `read_csv('${ackLog}', delim = '\t', header = false, columns = {'line_id': 'VARCHAR', 'invoice_no': 'VARCHAR'}) AS a`;
}

/** Waits until the lake's view holds every line of the ack log; resolves to how many are missing (0). */
export function lakeMissingAcked(
  ackLog: string,
  vars: Record<string, string>,
  timeoutMs: number,
): Promise<number> {
  return eventually(
    'every acknowledged line is in the lake',
    async () => {
      const [row] = await lakeQuery(
        `SELECT count(*) AS missing FROM ${ackLogTable(ackLog)} WHERE a.line_id NOT IN (SELECT line_id FROM invoice_lines)`,
        vars,
      );
      return Number(row!['missing']) === 0 ? 0 : undefined;
    },
    timeoutMs,
    1_000,
  );
}

/** Waits until the warehouse's raw table holds every acknowledged line; resolves to its distinct line ids. */
export function warehouseHoldsAcked(
  acked: Map<string, string>,
  vars: Record<string, string>,
): Promise<Set<string>> {
  return eventually('every acknowledged line is in the warehouse', async () => {
    const rows = await warehouseQuery('SELECT DISTINCT line_id FROM raw.invoice_lines', vars);
    const ids = new Set(rows.map((r) => r['line_id'] as string));
    return [...acked.keys()].every((id) => ids.has(id)) ? ids : undefined;
  });
}
