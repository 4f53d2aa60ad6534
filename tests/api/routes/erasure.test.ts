import type { ApiDeps, ErasureRequester } from '../../../src/api/deps.js';
import { ApiError } from '../../../src/api/errors.js';
import { deleteCustomer } from '../../../src/api/routes/erasure.js';
import { ROUTES } from '../../../src/api/routes.js';
import { SCOPES } from '../../../src/api/scopes.js';
import { erasureRecordKey } from '../../../src/core/erasure.js';

function deps(requestErasure?: ErasureRequester): ApiDeps {
  return {
    now: () => new Date('2026-12-03T17:00:00Z'),
    ...(requestErasure ? { requestErasure } : {}),
  } as unknown as ApiDeps;
}

describe('DELETE /customers/{customerId}', () => {
  it('is a route of the manifest that needs the admin scope', () => {
    expect(ROUTES.filter((r) => r.method === 'DELETE' && r.resource === '/customers/{customerId}')).toEqual([
      expect.objectContaining({ scope: SCOPES.admin }),
    ]);
  });

  it('starts the erasure and answers 202 with its id and where its record will be', async () => {
    // Prepare
    const requests: Parameters<ErasureRequester>[0][] = [];
    // Act
    const response = await deleteCustomer(
      '17850',
      deps(async (r) => {
        requests.push(r);
      }),
    );
    // Assess
    expect(response.statusCode).toBe(202);
    const body = JSON.parse(response.body) as { erasure_id: string; record: string; status: string };
    expect(body.status).toBe('accepted');
    expect(body.erasure_id).toMatch(/^20261203T170000Z-[0-9a-f]{8}$/);
    expect(body.record).toBe(erasureRecordKey(body.erasure_id));
    expect(response.body).not.toContain('17850');
    expect(requests).toEqual([
      { erasureId: body.erasure_id, customerId: 17850, requestedAt: new Date('2026-12-03T17:00:00Z') },
    ]);
  });

  it('answers 400 for a path that is not a customer number, before starting anything', async () => {
    let started = 0;
    const request = deleteCustomer(
      '17850.0',
      deps(async () => {
        started++;
      }),
    );
    await expect(request).rejects.toMatchObject({ statusCode: 400, code: 'invalid_parameter' });
    expect(started).toBe(0);
  });

  it('answers 501 where no erasure runner is deployed', async () => {
    const request = deleteCustomer('17850', deps());
    await expect(request).rejects.toBeInstanceOf(ApiError);
    await expect(deleteCustomer('17850', deps())).rejects.toMatchObject({
      statusCode: 501,
      code: 'erasure_unavailable',
    });
  });
});
