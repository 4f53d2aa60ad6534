import { readJson } from '../../adapters/s3-objects.js';
import { AUDIT_RESULT_KEY, type AuditReport } from '../../audit/compare.js';
import type { ApiDeps } from '../deps.js';
import { type HttpResponse, json } from '../http.js';

/**
 * GET /status: the last cross-store audit (`ecomflow audit` locally, the scheduled audit function on AWS),
 * read from where it keeps it. Behind the key: it names days and amounts. `audit` is null until one ran.
 */
export async function getStatus(deps: ApiDeps): Promise<HttpResponse> {
  const audit = await readJson<AuditReport>(deps.s3, deps.config.auditBucket, AUDIT_RESULT_KEY);
  return json(200, { audit });
}
