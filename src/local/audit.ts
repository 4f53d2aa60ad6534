import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDocumentClient, scanLineFigures } from '../adapters/dynamodb.js';
import { PgWarehouse } from '../adapters/pg-warehouse.js';
import { createLakeViews } from '../analytics/lake-views.js';
import { loadLakeQuery, loadWarehouseQuery } from '../analytics/models.js';
import type { DayRow } from '../audit/compare.js';
import type { AuditSources } from '../audit/run.js';
import { localPipelineConfig } from '../config/local.js';
import { DEAD_LETTER_FILE } from './dead-letters.js';
import { FIREHOSE_SPOOL_DIR, spooledLines } from './firehose-delivery.js';
import { LocalLake } from './lake.js';
import type { StackInfo } from './stack.js';

/** The audit's sources on the local stack, and what closes them. */
export async function localAuditSources(
  info: StackInfo,
  home: string,
): Promise<{ sources: AuditSources; close(): Promise<void> }> {
  const config = localPipelineConfig(info.endpoints);
  const lake = await LocalLake.open(info.lakeGlob, info.quarantineGlob);
  await createLakeViews(lake);
  const warehouse = new PgWarehouse(info.warehouseUrl);
  const dynamo = createDocumentClient(config.aws);
  const [days, quarantine] = await Promise.all([
    loadLakeQuery('audit_days'),
    loadLakeQuery('quarantine_by_reason'),
  ]);
  const sources: AuditSources = {
    lakeDays: async () => (await lake.query(days.sql)) as unknown as DayRow[],
    warehouseDays: async () =>
      warehouse.query<DayRow & Record<string, unknown>>(await loadWarehouseQuery('audit/invoice_days')),
    dynamodbLines: () => scanLineFigures(dynamo, config.tables.invoices),
    quarantine: async () =>
      (await lake.query(quarantine.sql)) as {
        source: string;
        reason: string;
        quarantined: string;
      }[],
    pending: async () => {
      const spooled = spooledLines(join(home, FIREHOSE_SPOOL_DIR));
      const deadLetters = await readFile(join(home, DEAD_LETTER_FILE), 'utf8').then(
        (t) => t.split('\n').filter((l) => l.trim() !== '').length,
        () => 0,
      );
      const [unrefreshed] = await warehouse.query<{ unrefreshed: string }>(
        await loadWarehouseQuery('audit/unrefreshed'),
      );
      return {
        // Each line is spooled once per delivery stream; the larger count is what some store still lacks.
        firehoseLines: Math.max(0, ...spooled.values()),
        deadLetters,
        warehouseUnrefreshed: Number(unrefreshed?.unrefreshed ?? 0),
      };
    },
  };
  return {
    sources,
    async close() {
      lake.close();
      dynamo.destroy();
      await warehouse.close();
    },
  };
}
