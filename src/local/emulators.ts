import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import S3rver from 's3rver';

/** A stand-in could not listen: names the port and the variable that moves it. */
export class PortInUseError extends Error {
  readonly code = 'port_in_use';
  constructor(
    readonly part: string,
    readonly port: number,
    readonly variable: string,
  ) {
    super(
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

/** The variable that sets each stand-in's port, for error messages and docs. */
export const PORT_VARIABLES: Record<keyof EmulatorPorts, string> = {
  kinesis: 'ECOMFLOW_KINESIS_PORT',
  dynamodb: 'ECOMFLOW_DYNAMODB_PORT',
  s3: 'ECOMFLOW_S3_PORT',
};

/**
 * Starts kinesalite, dynalite and s3rver in this process, from the project's own dependencies, with their
 * data under `stateDir` so it survives a restart. Port 0 picks a free port.
 */
export async function startEmulators(stateDir: string, ports: EmulatorPorts): Promise<RunningEmulators> {
  const dirs = {
    kinesis: join(stateDir, 'kinesis'),
    dynamodb: join(stateDir, 'dynamodb'),
    s3: join(stateDir, 's3'),
  };
  await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
  const kinesisServer = kinesalite({
    path: dirs.kinesis,
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
  });
  const dynamoServer = dynalite({
    path: dirs.dynamodb,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const started: (() => Promise<void>)[] = [];
  try {
    const kinesisPort = await listen(
      kinesisServer,
      ports.kinesis,
      'Kinesis (kinesalite)',
      PORT_VARIABLES.kinesis,
    );
    started.push(() => close(kinesisServer));
    const dynamoPort = await listen(
      dynamoServer,
      ports.dynamodb,
      'DynamoDB (dynalite)',
      PORT_VARIABLES.dynamodb,
    );
    started.push(() => close(dynamoServer));
    const s3rver = new S3rver({ address: '127.0.0.1', port: ports.s3, silent: true, directory: dirs.s3 });
    const s3Address = await s3rver.run().catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EADDRINUSE' ? new PortInUseError('S3 (s3rver)', ports.s3, PORT_VARIABLES.s3) : err;
    });
    started.push(() => s3rver.close());
    return {
      endpoints: {
        kinesis: `http://127.0.0.1:${kinesisPort}`,
        dynamodb: `http://127.0.0.1:${dynamoPort}`,
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
