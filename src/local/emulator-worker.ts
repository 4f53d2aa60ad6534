/**
 * Worker thread side of `startEmulators`: runs one emulator (kinesalite or dynalite) on its own thread, so
 * its CPU work (request validation, LevelDB, sequence numbers) does not share the main thread with the
 * handlers. It gets `{ kind, path, port }` as workerData, is ready with `{ port }` once listening, and
 * closes the server and its LevelDB on 'stop' (src/local/part-worker.ts).
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { workerData } from 'node:worker_threads';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import { servePart } from './part-worker.js';

export interface EmulatorWorkerData {
  kind: 'kinesalite' | 'dynalite';
  path: string;
  port: number;
}

/** What the emulator's thread is ready with: the port it listens on. */
export interface EmulatorReady {
  port: number;
}

const data = workerData as EmulatorWorkerData;
if (data.kind === 'dynalite') closeDynaliteIterators();

servePart<EmulatorReady>(
  () =>
    new Promise((resolve, reject) => {
      const server: Server =
        data.kind === 'dynalite'
          ? dynalite({ path: data.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
          : kinesalite({ path: data.path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
      server.once('error', reject);
      server.listen(data.port, '127.0.0.1', () => {
        const stop = () =>
          new Promise<void>((done) => {
            server.closeAllConnections?.();
            // Both emulators close their LevelDB when their server closes.
            server.close(() => done());
          });
        resolve({ ready: { port: (server.address() as AddressInfo).port }, stop });
      });
    }),
);

/**
 * dynalite 4 reads through abstract-level iterators wrapped in streams, and closes an iterator in the
 * stream's destroy by calling `iterator.return()`, which abstract-level 3 iterators do not have. So every
 * Query and Scan left its LevelDB iterator open: each pinned the files of its version, and under a steady
 * GET load the state folder grew by gigabytes a minute, memory with it, and reads slowed down. Giving the
 * iterators the `return()` dynalite expects (closing them) fixes it; it runs only in dynalite's thread.
 */
function closeDynaliteIterators(): void {
  const require = createRequire(import.meta.url);
  const fromLevel = createRequire(createRequire(require.resolve('dynalite')).resolve('level'));
  const iterators = fromLevel('abstract-level') as Record<string, { prototype: object } | undefined>;
  for (const name of ['AbstractIterator', 'AbstractKeyIterator', 'AbstractValueIterator']) {
    const prototype = iterators[name]?.prototype as
      | { return?: unknown; close?: () => Promise<void> }
      | undefined;
    if (!prototype || typeof prototype.return === 'function') continue;
    Object.defineProperty(prototype, 'return', {
      configurable: true,
      writable: true,
      value(this: { close(): Promise<void> }) {
        return this.close().then(() => ({ done: true, value: undefined }));
      },
    });
  }
}
