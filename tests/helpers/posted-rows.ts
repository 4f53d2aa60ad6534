/**
 * Generated CSV bodies for end-to-end tests, with what the cleaning core says about them: the clean lines
 * and, per invoice, the distinct line ids a GET must list.
 */
import { generateCsv } from '../../src/core/generate.js';
import { LineCleaner } from '../../src/core/line-cleaner.js';
import type { CleanLine } from '../../src/core/schema.js';

export interface PostedRows {
  csv: string;
  /** Clean lines in order, exact duplicates included (each is posted and delivered). */
  lines: CleanLine[];
  /** Distinct line ids per invoice. */
  invoices: Map<string, Set<string>>;
  distinct: number;
  /** `'a', 'b'` for a SQL IN list of the invoices. */
  invoiceList: string;
}

/**
 * `rows` generated rows whose invoice numbers are shifted by `offset`, so bodies of different tests never
 * share an invoice and every count is exact.
 */
export function postedRows(rows: number, seed: number, offset: number): PostedRows {
  const text = [...generateCsv({ rows, seed })]
    .map((line, i) =>
      i === 0
        ? line
        : line.replace(/^([CA]?)(\d+)/, (_, prefix: string, no: string) => `${prefix}${Number(no) + offset}`),
    )
    .join('\n');
  const csv = `${text}\n`;
  const lines: CleanLine[] = [];
  const cleaner = new LineCleaner({ line: (l) => lines.push(l), reject: () => {} }, { dedupe: false });
  cleaner.push(csv);
  cleaner.end();
  const invoices = new Map<string, Set<string>>();
  for (const line of lines) {
    const ids = invoices.get(line.invoice_no) ?? new Set<string>();
    ids.add(line.line_id);
    invoices.set(line.invoice_no, ids);
  }
  return {
    csv,
    lines,
    invoices,
    distinct: [...invoices.values()].reduce((n, ids) => n + ids.size, 0),
    invoiceList: [...invoices.keys()].map((no) => `'${no}'`).join(', '),
  };
}
