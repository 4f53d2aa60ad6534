/**
 * A part of the local stack on a thread of its own (an emulator, the stream's poller and `transform`), and
 * the few messages between it and the stack: the part says it is ready (or why it could not start), may
 * send lines for the stack's log, and stops when asked, after finishing what it has in hand.
 */
import { parentPort } from 'node:worker_threads';
import { EcomflowError } from '../errors.js';
import { startModuleWorker } from '../worker-threads.js';

/** What a part's thread sends the stack. */
export type PartMessage<Ready> =
  | { ready: Ready }
  | { error: string; code: string | undefined }
  | { log: string }
  | 'stopped';

export interface PartThread<Ready> {
  ready: Ready;
  /** Asks the part to stop, waits for it (at most `stopTimeoutMs`), then ends the thread. */
  stop(): Promise<void>;
}

/** Why a part's thread did not start; `reported` is the error code the part gave (EADDRINUSE, say). */
export class PartStartError extends EcomflowError {
  constructor(
    readonly part: string,
    message: string,
    readonly reported: string | undefined,
  ) {
    super('part_not_started', `${part} did not start: ${message}`);
    this.name = 'PartStartError';
  }
}

/**
 * Starts the worker module `name` beside `base` (`import.meta.url`) with `workerData`, and resolves once it
 * is ready. Lines it logs go to `log`.
 * @throws PartStartError when it reports an error, or exits, before it is ready
 */
export async function startPartThread<Ready>(
  base: string,
  name: string,
  workerData: unknown,
  options: { part: string; log?: (line: string) => void; stopTimeoutMs: number },
): Promise<PartThread<Ready>> {
  const worker = startModuleWorker(base, name, { workerData });
  worker.on('message', (m: PartMessage<Ready>) => {
    if (typeof m === 'object' && 'log' in m) options.log?.(m.log);
  });
  const first = await new Promise<PartMessage<Ready>>((resolve, reject) => {
    const onMessage = (m: PartMessage<Ready>) => {
      if (typeof m === 'object' && 'log' in m) return;
      worker.off('message', onMessage);
      resolve(m);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new PartStartError(options.part, `its thread exited (${code}) before it was ready`, undefined)),
    );
  }).finally(() => {
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
  });
  if (first === 'stopped' || 'error' in first) {
    await worker.terminate();
    throw new PartStartError(
      options.part,
      first === 'stopped' ? 'stopped' : first.error,
      first === 'stopped' ? undefined : first.code,
    );
  }
  if (!('ready' in first)) throw new PartStartError(options.part, 'an unexpected first message', undefined);
  const stop = async () => {
    const stopped = new Promise<void>((resolve) => {
      worker.on('message', (m: PartMessage<Ready>) => m === 'stopped' && resolve());
      worker.once('exit', () => resolve());
    });
    worker.postMessage('stop');
    // A stuck part must not hold the shutdown.
    await Promise.race([
      stopped,
      new Promise((resolve) => setTimeout(resolve, options.stopTimeoutMs).unref()),
    ]);
    await worker.terminate();
  };
  return { ready: first.ready, stop };
}

/**
 * The thread's side: runs `start`, tells the stack it is ready (or why not), forwards `log` lines, and on
 * the message 'stop' runs the part's stop and says 'stopped'.
 */
export function servePart<Ready>(
  start: (log: (line: string) => void) => Promise<{ ready: Ready; stop: () => Promise<void> }>,
): void {
  const port = parentPort!;
  const send = (message: PartMessage<Ready>) => port.postMessage(message);
  start((line) => send({ log: line })).then(
    ({ ready, stop }) => {
      port.on('message', (message: unknown) => {
        if (message !== 'stop') return;
        void stop().finally(() => {
          send('stopped');
          port.close();
        });
      });
      send({ ready });
    },
    (err: NodeJS.ErrnoException) => send({ error: err.message, code: err.code }),
  );
}
