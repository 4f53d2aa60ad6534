import { createDocumentClient } from '../adapters/dynamodb.js';
import { s3LakeStore } from '../adapters/lake-store.js';
import { PgWarehouse } from '../adapters/pg-warehouse.js';
import { createS3Client } from '../adapters/s3.js';
import { writeJson } from '../adapters/s3-objects.js';
import { pgRunner, redactUrl } from '../analytics/pg-runner.js';
import { refreshWarehouse } from '../analytics/refresh.js';
import type { ErasureRequester } from '../api/deps.js';
import type { Endpoints } from '../config/aws.js';
import { LOCAL_RESOURCES, localPipelineConfig } from '../config/local.js';
import { type ErasureStores, eraseCustomer } from '../erasure/erase.js';
import { pgErasureWarehouse } from '../erasure/warehouse.js';
import { loadOrCreateErasureKey } from './erasure-key.js';

/** Where the running stack's parts listen: what StackInfo (stack.json) says of them. */
export interface LocalStackParts {
  endpoints: Required<Endpoints>;
  warehouseUrl: string;
}

/**
 * The erasure's stores on the running local stack (`ecomflow erase`): dynalite, the lake in s3rver, the
 * embedded PostgreSQL and its refresh, the raw bucket for the record, and the key in the state folder.
 */
export async function localErasureStores(
  info: LocalStackParts,
  home: string,
): Promise<{ stores: ErasureStores; close(): Promise<void> }> {
  const config = localPipelineConfig(info.endpoints);
  const key = await loadOrCreateErasureKey(home);
  const s3 = createS3Client(config.aws);
  const doc = createDocumentClient(config.aws);
  const warehouse = new PgWarehouse(info.warehouseUrl);
  const r = LOCAL_RESOURCES;
  return {
    stores: {
      dynamodb: { doc, tables: config.tables },
      lake: { store: s3LakeStore(s3, r.lakeBucket, r.lakePrefix, config.lakeYears), prefix: r.lakePrefix },
      warehouse: pgErasureWarehouse(warehouse),
      refresh: () => refreshWarehouse(pgRunner(warehouse, redactUrl(info.warehouseUrl))),
      writeRecord: async (recordKey, record) => {
        await writeJson(s3, r.rawBucket, recordKey, record);
      },
      key,
    },
    async close() {
      s3.destroy();
      doc.destroy();
      await warehouse.close();
    },
  };
}

/**
 * DELETE /customers/{id} on the local stack: each request runs the erasure in this process after the 202,
 * one at a time (two erasures of one day would rewrite it twice), and logs its outcome. `stop` waits for
 * the erasures under way and those queued.
 */
export function localErasureRunner(
  info: LocalStackParts,
  home: string,
  log: (message: string) => void,
): { request: ErasureRequester; stop(): Promise<void> } {
  let queue: Promise<void> = Promise.resolve();
  return {
    async request({ erasureId, customerId, requestedAt }) {
      queue = queue.then(async () => {
        const { stores, close } = await localErasureStores(info, home);
        try {
          const { record, recordKey } = await eraseCustomer(stores, customerId, { erasureId, requestedAt });
          log(`erasure ${erasureId} done: ${recordKey} ${JSON.stringify(record.touched)}`);
        } catch (err) {
          log(`${(err as Error).message}`);
        } finally {
          await close();
        }
      });
    },
    stop: () => queue,
  };
}
