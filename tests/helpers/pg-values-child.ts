/**
 * Reads one row through PgWarehouse and through a plain node-pg client, in a child process whose TZ the
 * test sets (a Jest worker's process.env is a copy: setting TZ there does not reach node's clock). Prints
 * `{ offset, warehouse, types, plain }` as JSON: the zone's offset in minutes, the adapter's row, the type
 * of each of its values, and the plain client's row with Dates as ISO text.
 */
import pg from 'pg';
import { PgWarehouse } from '../../src/adapters/pg-warehouse.js';

export async function run([url, sql]: string[]): Promise<void> {
  const warehouse = new PgWarehouse(url!);
  const [row = {}] = await warehouse.query(sql!);
  await warehouse.close();
  const client = new pg.Client({ connectionString: url! });
  await client.connect();
  const { rows } = await client.query(sql!);
  await client.end();
  const types = Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, v instanceof Date ? 'Date' : typeof v]),
  );
  const offset = new Date(Date.UTC(2010, 11, 1)).getTimezoneOffset();
  process.stdout.write(JSON.stringify({ offset, warehouse: row, types, plain: rows[0] }));
}
