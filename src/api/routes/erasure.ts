import { ERASURE_RECORD_PREFIX, erasureId, erasureRecordKey } from '../../core/erasure.js';
import type { ApiDeps } from '../deps.js';
import { API_ERROR_CODES, ApiError } from '../errors.js';
import { type HttpResponse, json } from '../http.js';
import { parseCustomerId } from './customers.js';

/**
 * DELETE /customers/{customerId}: starts the customer's erasure and answers 202 with its id at once. The
 * erasure rewrites days of the lake and the warehouse, longer than API Gateway's 29 s, so it runs after
 * the answer; its record appears under `erasures/<id>.json` when it is done (docs/erasure.md).
 * @throws ApiError 501 where no erasure runner is configured (an API without ERASE_FUNCTION_NAME)
 */
export async function deleteCustomer(rawId: string, deps: ApiDeps): Promise<HttpResponse> {
  const customerId = parseCustomerId(rawId);
  if (!deps.requestErasure) {
    throw new ApiError(
      501,
      API_ERROR_CODES.erasure_unavailable,
      'customer erasure does not run in this deployment; run `ecomflow erase <customerId>` against its stores',
    );
  }
  const requestedAt = (deps.now ?? (() => new Date()))();
  const id = erasureId(requestedAt);
  await deps.requestErasure({ erasureId: id, customerId, requestedAt });
  return json(202, {
    erasure_id: id,
    status: 'accepted',
    requested_at: requestedAt.toISOString(),
    record: erasureRecordKey(id),
    records: ERASURE_RECORD_PREFIX,
  });
}
