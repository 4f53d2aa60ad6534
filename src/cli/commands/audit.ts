import { parseArgs } from 'node:util';
import { createS3Client } from '../../adapters/s3.js';
import { writeJson } from '../../adapters/s3-objects.js';
import { AUDIT_RESULT_KEY, AUDIT_STORES, type AuditReport } from '../../audit/compare.js';
import { runAudit } from '../../audit/run.js';
import { LOCAL_RESOURCES, localPipelineConfig, readStackSettings } from '../../config/local.js';
import { localAuditSources } from '../../local/audit.js';
import { readStackInfo } from '../../local/stack.js';
import { dayOption } from '../day.js';
import { CliError, UsageError } from '../errors.js';
import { formatCount } from '../progress.js';

export const auditUsage = `ecomflow audit [--since YYYY-MM-DD] [--json]

Compares the local stack's stores for each invoice day: the lake (the view invoice_lines), the warehouse
(staging.invoice_lines, as of the last \`ecomflow refresh\`) and DynamoDB (a Scan of the line items), by
distinct lines, distinct invoices and the sum of line_total. Prints the days that disagree and by how much,
the quarantine by reason, and what is still on its way (the Firehose spool, the dead letters, lines waiting
for a refresh). Exit code 1 when a day disagrees. The result is kept for GET /status.`;

export async function auditCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { since: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(auditUsage);
    return;
  }
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${auditUsage}`);
  const since = dayOption('since', values.since);
  const settings = readStackSettings();
  const info = await readStackInfo(settings.home).catch((err: Error) => {
    throw new CliError(err.message, { cause: err });
  });
  const { sources, close } = await localAuditSources(info, settings.home);
  let report: AuditReport;
  try {
    report = await runAudit(sources, { since }).catch((err: Error & { code?: string }) => {
      // PostgreSQL's undefined_table: staging is made by the first refresh.
      if (err.code === '42P01') {
        throw new CliError('the warehouse has no staging.invoice_lines yet: run `ecomflow refresh` first', {
          cause: err,
        });
      }
      throw err;
    });
  } finally {
    await close();
  }
  const s3 = createS3Client(localPipelineConfig(info.endpoints).aws);
  try {
    await writeJson(s3, LOCAL_RESOURCES.rawBucket, AUDIT_RESULT_KEY, report);
  } finally {
    s3.destroy();
  }
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else console.log(describeAudit(report));
  if (!report.agrees) {
    throw new CliError(`${report.disagreements.length} of ${report.days} days disagree`, {
      code: 'stores_disagree',
    });
  }
}

/** The report in words: the verdict, each disagreeing day, the quarantine and what is pending. */
export function describeAudit(report: AuditReport): string {
  const out: string[] = [];
  out.push(
    report.agrees
      ? `all ${formatCount(report.days)} invoice days agree across ${AUDIT_STORES.join(', ')}`
      : `${formatCount(report.disagreements.length)} of ${formatCount(report.days)} invoice days disagree`,
  );
  for (const d of report.disagreements) {
    const differences = d.differences
      .map((x) => `${x.store} ${signed(x.lines)} lines, ${signed(x.invoices)} invoices, ${x.total} total`)
      .join('; ');
    out.push(`  ${d.day}: ${differences}`);
  }
  for (const store of AUDIT_STORES) {
    const t = report.totals[store];
    out.push(
      `  ${store.padEnd(10)} ${formatCount(t.lines).padStart(9)} lines  ${formatCount(t.invoices).padStart(7)} invoices  ${t.total}`,
    );
  }
  const quarantined = report.quarantine.reduce((n, q) => n + q.quarantined, 0);
  out.push(`quarantined ${formatCount(quarantined)} rows${quarantined > 0 ? ':' : ''}`);
  for (const q of report.quarantine)
    out.push(`  ${q.source.padEnd(7)} ${q.reason.padEnd(20)} ${formatCount(q.quarantined)}`);
  const p = report.pending;
  out.push(
    `pending: ${p.firehoseLines ?? '?'} lines in the Firehose buffer, ${p.deadLetters ?? '?'} dead letters, ` +
      `${p.warehouseUnrefreshed ?? '?'} lines waiting for a refresh`,
  );
  return out.join('\n');
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
