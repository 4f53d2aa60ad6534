/**
 * Worker thread side of `startEmulators`: runs one emulator (kinesalite or dynalite) on its own thread, so
 * its CPU work (request validation, LevelDB, sequence numbers) does not share the main thread with the
 * handlers. It gets `{ kind, path, port }` as workerData, answers `{ port }` once listening (or
 * `{ error, code }`), and closes the server and its LevelDB on the message 'stop'.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';

export interface EmulatorWorkerData {
  kind: 'kinesalite' | 'dynalite';
  path: string;
  port: number;
}

export type EmulatorWorkerReply = { port: number } | { error: string; code: string | undefined } | 'stopped';

const port = parentPort!;
const data = workerData as EmulatorWorkerData;
if (data.kind === 'dynalite') closeDynaliteIterators();
const server: Server =
  data.kind === 'dynalite'
    ? dynalite({ path: data.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
    : kinesalite({ path: data.path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });

server.once('error', (err: NodeJS.ErrnoException) => {
  port.postMessage({ error: err.message, code: err.code } satisfies EmulatorWorkerReply);
});
server.listen(data.port, '127.0.0.1', () => {
  port.postMessage({ port: (server.address() as AddressInfo).port } satisfies EmulatorWorkerReply);
});
port.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  server.closeAllConnections?.();
  // Both emulators close their LevelDB when their server closes.
  server.close(() => {
    port.postMessage('stopped' satisfies EmulatorWorkerReply);
    port.close();
  });
});

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
