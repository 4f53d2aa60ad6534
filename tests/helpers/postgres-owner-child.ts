/**
 * Starts a detached embedded PostgreSQL in a child process and then waits to be killed (SIGKILL: no exit
 * hook runs), so a test can check what the next start does with the server left running.
 * Prints `started <pid>` once the server accepts connections.
 */
import { startEmbeddedPostgres } from '../../src/local/embedded-postgres.js';

export async function run([dataDir, port]: string[]): Promise<void> {
  const server = await startEmbeddedPostgres({ dataDir: dataDir!, port: Number(port), detached: true });
  process.stdout.write(`started ${server.pid}\n`);
  await new Promise(() => {});
}
