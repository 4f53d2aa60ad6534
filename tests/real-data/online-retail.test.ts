import { cleanFile } from '../../src/batch/source.js';
import type { CleanReport } from '../../src/core/line-cleaner.js';
import type { CleanLine } from '../../src/core/schema.js';
import { describeWithRealData, REAL_DATA } from '../helpers/real-data.js';

/** The figures in ../shared/data/online-retail/README.md, counted independently of this project. */
describeWithRealData('the real Online Retail data', () => {
  let report: CleanReport;
  const counts = { guestLinesRead: 0, cancellationLinesRead: 0 };
  const invoice536365: CleanLine[] = [];

  beforeAll(async () => {
    report = await cleanFile(REAL_DATA, {
      line: (line) => {
        if (line.customer_id === null) counts.guestLinesRead++;
        if (line.is_cancellation) counts.cancellationLinesRead++;
        if (line.invoice_no === '536365') invoice536365.push(line);
      },
      // Duplicates are lines read too: the README counts them in its input figures.
      duplicate: (line) => {
        if (line.customer_id === null) counts.guestLinesRead++;
        if (line.is_cancellation) counts.cancellationLinesRead++;
      },
      reject: (rejection) => {
        throw new Error(`the real data should clean without quarantine: ${rejection.message}`);
      },
    });
  }, 120_000);

  it('reads 541,909 rows with 5,268 exact duplicates and quarantines none', () => {
    expect(report.rows_read).toBe(541_909);
    expect(report.duplicates).toBe(5_268);
    expect(report.quarantined).toBe(0);
    expect(report.rows_clean).toBe(536_641);
  });

  it('reads 135,080 lines without CustomerID', () => {
    expect(counts.guestLinesRead).toBe(135_080);
  });

  it('reads 9,288 cancellation lines', () => {
    expect(counts.cancellationLinesRead).toBe(9_288);
  });

  it('has invoice 536365 with 7 lines totalling 139.12', () => {
    expect(invoice536365).toHaveLength(7);
    const totalMilli = invoice536365.reduce((sum, l) => sum + Math.round(l.line_total * 1000), 0);
    expect(totalMilli).toBe(139_120);
  });
});
