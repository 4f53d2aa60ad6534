/**
 * Worker thread side of the stack's live refresh (src/local/live-refresh.ts): the timer, and the runs that
 * refresh staging, the marts and the loyalty balances and write the dashboard snapshot. Building the
 * snapshot (tens of thousands of mart rows read and written as JSON) took the stack's main thread, and
 * `/health` with it, for a second or more on the real data. Ready with `{}` once the timer is set; on
 * 'stop' it waits for the run under way (src/local/part-worker.ts).
 */
import { workerData } from 'node:worker_threads';
import { PgWarehouse } from '../adapters/pg-warehouse.js';
import { startLiveRefresh } from './live-refresh.js';
import { servePart } from './part-worker.js';

export interface RefreshWorkerData {
  /** The pipeline's login to the local warehouse. */
  warehouseUrl: string;
  endpoints: { kinesis: string; dynamodb: string; s3: string; firehose: string };
  intervalMs: number;
}

const data = workerData as RefreshWorkerData;

servePart<Record<string, never>>(async (log) => {
  const warehouse = new PgWarehouse(data.warehouseUrl);
  const live = startLiveRefresh(
    { warehouse, target: 'the local warehouse', endpoints: data.endpoints },
    data.intervalMs,
    log,
  );
  return {
    ready: {},
    stop: async () => {
      await live.stop();
      await warehouse.close();
    },
  };
});
