import { chmod, mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { STACK_VARIABLES, STATE_DIR_MODE } from '../config/local.js';
import { EcomflowError } from '../errors.js';
import type { EmulatorReady, EmulatorWorkerData } from './emulator-worker.js';
import { PartStartError, startPartThread } from './part-worker.js';
import { createS3rver } from './s3rver.js';

/** A stand-in could not listen: names the port and the variable that moves it. */
export class PortInUseError extends EcomflowError {
  constructor(
    readonly part: string,
    readonly port: number,
    readonly variable: string,
  ) {
    super(
      'port_in_use',
      `port ${port} for ${part} is already in use: stop whatever holds it, or set ${variable} to a free port`,
    );
    this.name = 'PortInUseError';
  }
}

export interface EmulatorPorts {
  kinesis: number;
  dynamodb: number;
  s3: number;
}

export interface RunningEmulators {
  endpoints: { kinesis: string; dynamodb: string; s3: string };
  /** s3rver's storage: objects sit at `<s3Dir>/<bucket>/<key>._S3rver_object`. */
  s3Dir: string;
  stop(): Promise<void>;
}

/**
 * Starts kinesalite, dynalite and s3rver from the project's own dependencies, with their data under
 * `stateDir` so it survives a restart. Port 0 picks a free port.
 *
 * kinesalite and dynalite each run on a worker thread of this process: they are CPU-bound (dynalite
 * validates and stores every item through LevelDB, ~0.15 ms an item), and on the main thread they would
 * halve what the handlers get. They still stop with the process, and speak HTTP as before.
 */
export async function startEmulators(stateDir: string, ports: EmulatorPorts): Promise<RunningEmulators> {
  const dirs = {
    kinesis: join(stateDir, 'kinesis'),
    dynamodb: join(stateDir, 'dynamodb'),
    s3: join(stateDir, 's3'),
  };
  // The emulators' data holds raw rows (the quarantine) and the look-ups: for this user only.
  await Promise.all(
    Object.values(dirs).map(async (d) => {
      await mkdir(d, { recursive: true, mode: STATE_DIR_MODE });
      await chmod(d, STATE_DIR_MODE);
    }),
  );
  const started: (() => Promise<void>)[] = [];
  try {
    const kinesis = await startEmulatorWorker(
      { kind: 'kinesalite', path: dirs.kinesis, port: ports.kinesis },
      'Kinesis (kinesalite)',
      STACK_VARIABLES.kinesis,
    );
    started.push(kinesis.stop);
    const dynamo = await startEmulatorWorker(
      { kind: 'dynalite', path: dirs.dynamodb, port: ports.dynamodb },
      'DynamoDB (dynalite)',
      STACK_VARIABLES.dynamodb,
    );
    started.push(dynamo.stop);
    const s3rver = createS3rver({ address: '127.0.0.1', port: ports.s3, silent: true, directory: dirs.s3 });
    const s3Address = await s3rver.run().catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EADDRINUSE' ? new PortInUseError('S3 (s3rver)', ports.s3, STACK_VARIABLES.s3) : err;
    });
    started.push(() => s3rver.close());
    return {
      endpoints: {
        kinesis: `http://127.0.0.1:${kinesis.port}`,
        dynamodb: `http://127.0.0.1:${dynamo.port}`,
        s3: `http://127.0.0.1:${s3Address.port}`,
      },
      s3Dir: dirs.s3,
      stop: async () => {
        await Promise.all(started.map((stop) => stop()));
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((stop) => stop()));
    throw err;
  }
}

/** One emulator on its own thread; resolves once it listens, with its port and a `stop`. */
async function startEmulatorWorker(
  data: EmulatorWorkerData,
  part: string,
  variable: string,
): Promise<{ port: number; stop: () => Promise<void> }> {
  // LevelDB closes within milliseconds.
  const thread = await startPartThread<EmulatorReady>(import.meta.url, 'emulator-worker', data, {
    part,
    stopTimeoutMs: 5_000,
  }).catch((err: unknown) => {
    throw err instanceof PartStartError && err.reported === 'EADDRINUSE'
      ? new PortInUseError(part, data.port, variable)
      : err;
  });
  return { port: thread.ready.port, stop: thread.stop };
}

/** Listens on 127.0.0.1; a taken port becomes a PortInUseError. Resolves to the port. */
export function listen(server: Server, port: number, part: string, variable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(part, port, variable) : err);
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}
