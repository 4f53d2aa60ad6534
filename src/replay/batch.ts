import type { ProbeTarget } from './probe.js';
import type { RowLine } from './read.js';

/** One POST's rows: their raw CSV text, and the lines the core accepts among them. */
export interface Batch {
  raws: string[];
  chars: number;
  /** line_id and invoice of each row the core accepts. */
  lines: RowLine[];
  rejected: number;
}

export function newBatch(): Batch {
  return { raws: [], chars: 0, lines: [], rejected: 0 };
}

/** The CSV body of a batch: the file's header, then its rows. */
export function batchBody(headerRaw: string, batch: Batch): string {
  return `${headerRaw}\n${batch.raws.join('\n')}\n`;
}

/** The last `n` invoices of a batch with their line ids in the batch, the last invoice first. */
export function lastInvoices(batch: Batch, n: number): ProbeTarget[] {
  const out: ProbeTarget[] = [];
  for (let i = batch.lines.length - 1; i >= 0; i--) {
    const { invoiceNo, lineId } = batch.lines[i]!;
    let entry = out.find((e) => e.invoiceNo === invoiceNo);
    if (!entry) {
      // Lines of an invoice need not be contiguous: keep scanning for the chosen ones.
      if (out.length >= n) continue;
      entry = { invoiceNo, lineIds: [] };
      out.push(entry);
    }
    entry.lineIds.push(lineId);
  }
  return out;
}
