/**
 * Worker thread side of `ThreadedParquetFile`: encodes row groups into a Parquet file while the main
 * thread goes on parsing and cleaning. It gets the path as workerData, then column batches, then 'close'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fileWriter } from 'hyparquet-writer';
import { type ColumnBatch, ParquetEncoder } from './parquet.js';

const port = parentPort!;
const encoder = new ParquetEncoder(fileWriter((workerData as { path: string }).path));

port.on('message', (message: ColumnBatch | 'close') => {
  try {
    if (message === 'close') {
      encoder.close();
      port.postMessage({ closed: encoder.rows });
      return;
    }
    encoder.write(message);
    port.postMessage({ written: message.rows });
  } catch (err) {
    port.postMessage({ error: (err as Error).stack ?? String(err) });
  }
});
