/**
 * How the transformer orders writes and changes within one batch of stream records, with no I/O: which
 * writes an invoice's newest change supersedes, and what a change removes from DynamoDB and tombstones in
 * the lake and the warehouse. process-batch.ts does the reads and writes.
 *
 * The rule (src/core/changes.ts) is that the newest change of an invoice is a floor: nothing older shows.
 * The transformer enforces it for DynamoDB, which holds only the present, and passes on to Firehose only
 * what it applied, so the append-only stores receive the same history:
 * - a write older than the invoice's head (its newest applied change) is superseded and dropped;
 * - of several changes to one invoice in a batch, only the newest is applied;
 * - lines added with a version above the change's are kept, whatever their place in the batch.
 */

import { storedAs } from '../core/changes.js';
import {
  customerLineItem,
  type InvoiceHeadItem,
  ITEM_KINDS,
  type ItemDelete,
  lineFromItem,
  TABLES,
} from '../core/dynamo-items.js';
import { CHANGE_KINDS, type CleanLine, type StoredLine } from '../core/schema.js';
import type { InvoiceChange } from './envelope.js';

/** What one record asks for, decoded and cleaned. */
export interface RecordRequest {
  version: number;
  request_id: string | null;
  change: { kind: InvoiceChange; invoice_no: string } | null;
  lines: readonly CleanLine[];
}

/** A change the batch applies. */
export interface AppliedChange {
  invoice_no: string;
  kind: InvoiceChange;
  version: number;
  request_id: string;
  /** Line ids the batch adds to the invoice with a newer version: a change must not remove them. */
  laterAdds: ReadonlySet<string>;
}

/** The batch's plan for one record. */
export interface RecordPlan {
  /** Indexes (into the record's lines) of the lines to store, each with the write that stores it. */
  keep: { index: number; line: StoredLine }[];
  /** Lines dropped because a newer change of their invoice exists. */
  superseded: number;
  /** Set when this record's change is applied; a change superseded by a newer one is not. */
  change: AppliedChange | null;
  /** A change record that a newer change superseded (and so does nothing). */
  supersededChange: boolean;
}

/** Whether a change at `version` from `requestId` is newer than the head (or the head's own retry). */
function passesHead(version: number, requestId: string, head: InvoiceHeadItem | undefined): boolean {
  if (!head) return true;
  return version > head.version || (version === head.version && requestId === head.request_id);
}

/**
 * Plans a batch: for each record, the lines it stores and whether its change applies, given the heads
 * stored before the batch.
 */
export function planBatch(
  records: readonly RecordRequest[],
  heads: ReadonlyMap<string, InvoiceHeadItem>,
): RecordPlan[] {
  // The newest change of each invoice in the batch that passes its head.
  const newest = new Map<string, { record: number; version: number }>();
  records.forEach((r, i) => {
    if (!r.change || r.request_id === null) return;
    if (!passesHead(r.version, r.request_id, heads.get(r.change.invoice_no))) return;
    const seen = newest.get(r.change.invoice_no);
    if (!seen || r.version > seen.version) newest.set(r.change.invoice_no, { record: i, version: r.version });
  });
  // Below or at its floor, an add is older than a change: superseded.
  const floorOf = (invoiceNo: string): number | undefined => {
    const head = heads.get(invoiceNo)?.version;
    const change = newest.get(invoiceNo)?.version;
    if (head === undefined) return change;
    return change === undefined ? head : Math.max(head, change);
  };
  const laterAdds = new Map<string, Set<string>>();
  const plans: RecordPlan[] = records.map((r, i) => {
    const plan: RecordPlan = { keep: [], superseded: 0, change: null, supersededChange: false };
    if (r.change) {
      const applied = newest.get(r.change.invoice_no)?.record === i;
      if (!applied) {
        plan.supersededChange = true;
        plan.superseded = r.lines.length;
        return plan;
      }
      r.lines.forEach((line, index) => {
        plan.keep.push({ index, line: storedAs(line, r.version, CHANGE_KINDS.replace) });
      });
      return plan;
    }
    r.lines.forEach((line, index) => {
      const floor = floorOf(line.invoice_no);
      if (floor !== undefined && r.version <= floor) {
        plan.superseded++;
        return;
      }
      plan.keep.push({ index, line: storedAs(line, r.version, CHANGE_KINDS.add) });
      const ids = laterAdds.get(line.invoice_no) ?? new Set<string>();
      ids.add(line.line_id);
      laterAdds.set(line.invoice_no, ids);
    });
    return plan;
  });
  for (const [invoiceNo, { record }] of newest) {
    const r = records[record]!;
    plans[record]!.change = {
      invoice_no: invoiceNo,
      kind: r.change!.kind,
      version: r.version,
      request_id: r.request_id!,
      laterAdds: laterAdds.get(invoiceNo) ?? new Set(),
    };
  }
  return plans;
}

/** What applying a change removes, from the invoice's items as read before the batch's writes. */
export interface Removal {
  /** The removed lines as tombstones, for the lake and the warehouse. */
  tombstones: StoredLine[];
  /** The DynamoDB items to delete: the removed lines', their customers', and memberships left empty. */
  deletes: ItemDelete[];
  /** The lines the invoice has after the change. */
  remaining: number;
}

/**
 * What a change removes: every line the invoice has that is neither in the change's set (`kept`) nor added
 * later in the batch, and the memberships of stock codes no line has any more.
 */
export function removal(
  change: AppliedChange,
  current: readonly Record<string, unknown>[],
  kept: readonly CleanLine[],
): Removal {
  const stays = new Set([...kept.map((l) => l.line_id), ...change.laterAdds]);
  const tombstones: StoredLine[] = [];
  const deletes: ItemDelete[] = [];
  const stockCodes = new Set(kept.map((l) => l.stock_code));
  const lines = current.filter((item) => item['kind'] === ITEM_KINDS.line);
  for (const item of lines) {
    const line = lineFromItem(item);
    if (stays.has(line.line_id)) {
      stockCodes.add(line.stock_code);
      continue;
    }
    tombstones.push(storedAs(line, change.version, CHANGE_KINDS.delete));
    deletes.push(keyDelete(TABLES.invoices, item));
    const customer = customerLineItem(line);
    if (customer)
      deletes.push({ table: TABLES.customers, key: { pk: customer.pk, sk: customer.sk }, delete: true });
  }
  for (const item of current) {
    if (item['kind'] === ITEM_KINDS.stock && !stockCodes.has(String(item['stock_code']))) {
      deletes.push(keyDelete(TABLES.invoices, item));
    }
  }
  return { tombstones, deletes, remaining: stays.size };
}

function keyDelete(table: ItemDelete['table'], item: Record<string, unknown>): ItemDelete {
  return { table, key: { pk: String(item['pk']), sk: String(item['sk']) }, delete: true };
}
