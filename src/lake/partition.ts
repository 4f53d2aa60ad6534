/**
 * The lake's event-time partition of a line, `year=YYYY/month=MM/day=DD/`, from its ISO invoice date: the
 * layout Firehose's dynamic partitioning writes on AWS, and the one the batch path and the local Firehose
 * write too, so one Glue table with partition projection reads them all.
 *
 * @example lakePartition('2010-12-01T08:26:00Z') === 'year=2010/month=12/day=01/'
 */
export function lakePartition(invoiceDate: string): string {
  return `year=${invoiceDate.slice(0, 4)}/month=${invoiceDate.slice(5, 7)}/day=${invoiceDate.slice(8, 10)}/`;
}
