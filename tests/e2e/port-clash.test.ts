/**
 * A port already in use stops `ecomflow up` with a message that names the port and the variable to change,
 * a non-zero exit, and nothing left running.
 */
import { access, rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { makeHome, runCli, stackEnv } from '../helpers/stack-process.js';

let home: string;
let squatter: Server;

beforeEach(async () => {
  home = await makeHome();
  squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
});
afterEach(async () => {
  await new Promise((resolve) => squatter.close(resolve));
  await rm(home, { recursive: true, force: true });
});

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function squattedPort(): number {
  return (squatter.address() as { port: number }).port;
}

describe('ecomflow up on a port already in use', () => {
  it.each([
    ['ECOMFLOW_KINESIS_PORT', /Kinesis \(kinesalite\)/],
    ['ECOMFLOW_WAREHOUSE_PORT', /the warehouse \(embedded PostgreSQL\)/],
    ['PORT', /the API/],
  ])('names the port and %s, exits non-zero and leaves nothing running', async (variable, part) => {
    // Prepare
    const vars = await stackEnv(home, { [variable]: String(squattedPort()) });

    // Act
    const result = await runCli(['up', '--no-sample'], vars);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`port ${squattedPort()}`);
    expect(result.stderr).toContain(`set ${variable} to a free port`);
    expect(result.stderr).toMatch(part);
    // PostgreSQL (started before the API port clashed) was stopped again: it removes its pid file.
    await expect(access(join(home, 'warehouse', 'postmaster.pid'))).rejects.toThrow();
    for (const other of ['ECOMFLOW_DYNAMODB_PORT', 'ECOMFLOW_S3_PORT', 'ECOMFLOW_WAREHOUSE_PORT', 'PORT']) {
      if (other !== variable) expect(await isListening(Number(vars[other]))).toBe(false);
    }
  });
});
