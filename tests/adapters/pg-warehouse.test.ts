/**
 * The warehouse adapter's values, whatever the user's time zone: DATE as stored, TIMESTAMP (without time
 * zone) as UTC ISO text. Read in a child process in Asia/Tokyo (UTC+9), where node-pg's default parsers
 * shift both.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { timestampText } from '../../src/adapters/pg-warehouse.js';
import { type RunningEmbeddedPostgres, startEmbeddedPostgres } from '../../src/local/embedded-postgres.js';
import { freePort } from '../helpers/load-targets.js';

const ROOT = join(import.meta.dirname, '..', '..');
let dir: string;
let local: RunningEmbeddedPostgres;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecomflow-pg-'));
  // As root, PostgreSQL runs as `postgres` and must traverse the folder.
  await chmod(dir, 0o755);
  local = await startEmbeddedPostgres({ dataDir: join(dir, 'warehouse'), port: await freePort() });
});
afterAll(async () => {
  await local?.stop();
  await rm(dir, { recursive: true, force: true });
});

const VALUES_SQL = `SELECT DATE '2010-12-01' AS day,
  TIMESTAMP '2010-12-01 08:26:00' AS at,
  TIMESTAMP '2010-12-01 08:26:00.5' AS half,
  TIMESTAMP '2011-12-09 23:59:59.123456' AS micro,
  DATE '0999-01-01' AS old_day,
  'infinity'::timestamp AS forever,
  TIMESTAMPTZ '2010-12-01 08:26:00+00' AS with_zone`;

interface ChildOutput {
  offset: number;
  warehouse: Record<string, unknown>;
  types: Record<string, string>;
  plain: Record<string, unknown>;
}

/** VALUES_SQL read by tests/helpers/pg-values-child.ts with TZ set to `tz`. */
async function readIn(tz: string): Promise<ChildOutput> {
  const script = `import('./tests/helpers/pg-values-child.ts').then((m) => m.run(${JSON.stringify([local.connectionString, VALUES_SQL])}))`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, TZ: tz },
  });
  return JSON.parse(stdout) as ChildOutput;
}

describe('PgWarehouse in a non-UTC time zone', () => {
  it('returns DATE as stored and TIMESTAMP as UTC ISO text in Asia/Tokyo, where node-pg alone shifts them', async () => {
    // Act
    const out = await readIn('Asia/Tokyo');

    // Assess: the zone is in effect (else nothing below could fail) ...
    expect(out.offset).toBe(-540);
    // ... node-pg's defaults read local time: 08:26 comes back as 23:26 the day before ...
    expect(out.plain['at']).toBe('2010-11-30T23:26:00.000Z');
    expect(out.plain['day']).toBe('2010-11-30T15:00:00.000Z');
    // ... and the adapter returns the values as stored, in UTC.
    expect(out.warehouse).toEqual({
      day: '2010-12-01',
      at: '2010-12-01T08:26:00Z',
      half: '2010-12-01T08:26:00.5Z',
      micro: '2011-12-09T23:59:59.123456Z',
      old_day: '0999-01-01',
      forever: 'infinity',
      // TIMESTAMPTZ keeps node-pg's parser: a Date of the right instant in any zone.
      with_zone: '2010-12-01T08:26:00.000Z',
    });
    expect(out.types).toMatchObject({ day: 'string', at: 'string', with_zone: 'Date' });
  });
});

describe('timestampText', () => {
  it.each([
    ['2010-12-01 08:26:00', '2010-12-01T08:26:00Z'],
    ['2010-12-01 08:26:00.25', '2010-12-01T08:26:00.25Z'],
    ['12010-12-01 08:26:00', '12010-12-01T08:26:00Z'],
    ['infinity', 'infinity'],
    ['-infinity', '-infinity'],
    ['0044-03-15 12:00:00 BC', '0044-03-15 12:00:00 BC'],
  ])('%s -> %s', (text, expected) => {
    expect(timestampText(text)).toBe(expected);
  });
});
