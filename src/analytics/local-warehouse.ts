import { readStackInfo } from '../local/stack.js';

/** The local warehouse's port when nothing else is set (the embedded PostgreSQL of `npm start`). */
export const DEFAULT_WAREHOUSE_PORT = 5433;

/** The local warehouse's connection string when nothing else is set; what `npm start` prints. */
export const DEFAULT_WAREHOUSE_URL = `postgres://ecomflow:ecomflow@127.0.0.1:${DEFAULT_WAREHOUSE_PORT}/ecomflow`;

/** Environment variable naming the warehouse for `ecomflow refresh`. */
export const WAREHOUSE_URL_VARIABLE = 'ECOMFLOW_WAREHOUSE_URL';

export interface WarehouseUrl {
  url: string;
  /** Where it came from, for the user: `--url`, the variable, the running stack, or the default. */
  source: string;
}

/**
 * The warehouse to refresh: `--url`, else `ECOMFLOW_WAREHOUSE_URL`, else the running local stack's
 * (`<ECOMFLOW_HOME>/stack.json`), else `DEFAULT_WAREHOUSE_URL`.
 */
export async function resolveWarehouseUrl(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): Promise<WarehouseUrl> {
  if (flag) return { url: flag, source: '--url' };
  const fromEnv = env[WAREHOUSE_URL_VARIABLE]?.trim();
  if (fromEnv) return { url: fromEnv, source: WAREHOUSE_URL_VARIABLE };
  const info = await readStackInfo(home).catch(() => undefined);
  if (info) return { url: info.warehouseUrl, source: `the local stack in ${home}` };
  return { url: DEFAULT_WAREHOUSE_URL, source: 'the default' };
}
