import { parseArgs } from 'node:util';
import { readStackSettings } from '../../config/local.js';
import { parseCustomerId } from '../../core/erasure.js';
import { eraseCustomer } from '../../erasure/erase.js';
import { localErasureStores } from '../../local/erasure.js';
import { readStackInfo } from '../../local/stack.js';
import { CliError, UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';
import { formatCount } from '../progress.js';

export const eraseUsage = `ecomflow erase <customerId> [--json]

Erases a customer from the local stack: afterwards no store holds their CustomerID. Their lines stay as
guest lines (customer_id null, line_id recomputed as for a guest), so revenue does not change: DynamoDB's
items, the lake's days of their lines (rewritten by compaction), the warehouse's raw and staging rows, and
the marts (refreshed). A record of the erasure (its id, the time, counts of what was touched, and a keyed
hash of the id, never the id) is kept under erasures/ in the raw bucket. Safe to run again; what stays
elsewhere (the stream's retention, the quarantine's raw rows, the source file) is in docs/erasure.md.`;

export async function eraseCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...HELP_OPTION, json: { type: 'boolean' } },
  });
  if (values.help) return printUsage(eraseUsage);
  const [text, ...extra] = positionals;
  if (text === undefined || extra.length > 0)
    throw new UsageError(`expected one customer id\n\n${eraseUsage}`);
  const customerId = parseCustomerId(text);
  if (customerId === null) {
    throw new UsageError(`customer id "${text}" is not a CustomerID (digits, at most 2147483647)`);
  }
  const settings = readStackSettings();
  const info = await readStackInfo(settings.home).catch((cause: Error) => {
    throw new CliError(cause.message, { cause });
  });
  const { stores, close } = await localErasureStores(info, settings.home);
  try {
    const { record, recordKey, ms } = await eraseCustomer(stores, customerId);
    if (values.json) {
      console.log(JSON.stringify({ ...record, recordKey }, null, 2));
      return;
    }
    const t = record.touched;
    console.log(
      [
        `erasure ${record.erasureId} done in ${(ms / 1000).toFixed(1)} s; record ${recordKey}`,
        `  dynamodb   ${formatCount(t.dynamodb.customerItems)} customer items deleted, ` +
          `${formatCount(t.dynamodb.lineItems)} line items re-keyed, ${formatCount(t.dynamodb.stockItems)} membership items cleared`,
        `  lake       ${formatCount(t.lake.days)} days rewritten, ${formatCount(t.lake.lines)} lines re-keyed`,
        `  warehouse  ${formatCount(t.warehouse.rawRows)} raw rows, ${formatCount(t.warehouse.stagingRows)} staging rows re-keyed; ` +
          `marts ${t.warehouse.martsRefreshed ? 'refreshed' : 'not refreshed'}`,
      ].join('\n'),
    );
  } finally {
    await close();
  }
}
