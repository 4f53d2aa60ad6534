import type { S3Client } from '@aws-sdk/client-s3';
import { headObject, readJson } from '../../adapters/s3-objects.js';
import { AUDIT_RESULT_KEY, type AuditReport } from '../../audit/compare.js';
import type { SignInConfig } from '../../config/auth.js';
import { readAsset } from '../../dashboard/assets.js';
import { DASHBOARD_SNAPSHOT_KEY, type DashboardSnapshot } from '../../dashboard/contract.js';
import { FilterError, UnknownAssetError } from '../../dashboard/errors.js';
import {
  DASHBOARD_PARTS,
  dashboardView,
  isCurrentSnapshot,
  parseDashboardFilter,
} from '../../dashboard/view.js';
import type { ApiDeps } from '../deps.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import { type HttpResponse, json } from '../http.js';

/**
 * GET /dashboard/data?from&to&country: every tile's figures for the filter (src/dashboard/view.ts), from
 * the snapshot the last refresh wrote and the last audit, both in the audit's bucket. The warehouse is never
 * queried here, so the answer never waits on Redshift. A part that cannot be read is named in
 * `health.unavailable` and the rest is answered (200): the page says which part is down.
 *
 * @throws BadRequestError (400 invalid_parameter) naming the filter parameter that is not valid
 */
export async function getDashboardData(
  query: Readonly<Record<string, string | undefined>> | null,
  deps: ApiDeps,
): Promise<HttpResponse> {
  let filter: ReturnType<typeof parseDashboardFilter>;
  try {
    filter = parseDashboardFilter(query);
  } catch (error) {
    if (error instanceof FilterError) {
      throw new BadRequestError(
        'invalid_parameter',
        error.message,
        { parameter: error.parameter },
        { cause: error },
      );
    }
    throw error;
  }
  const bucket = deps.config.auditBucket;
  const unavailable: string[] = [];
  const [snapshot, audit] = await Promise.all([
    readSnapshot(deps.s3, bucket).catch(() => {
      unavailable.push(DASHBOARD_PARTS.snapshot);
      return null;
    }),
    readJson<AuditReport>(deps.s3, bucket, AUDIT_RESULT_KEY).catch(() => {
      unavailable.push(DASHBOARD_PARTS.audit);
      return null;
    }),
  ]);
  return json(200, dashboardView(snapshot, audit, filter, unavailable.sort()), {
    'Cache-Control': 'no-store',
  });
}

/**
 * The last snapshot parsed, kept by its ETag: a snapshot of the real data is megabytes of JSON, and it only
 * changes when a refresh writes a new one, so a request costs one HeadObject while it stays the same. One
 * entry, replaced on change: it cannot grow across warm invocations.
 */
let cached: { bucket: string; etag: string; snapshot: DashboardSnapshot } | null = null;

/**
 * The snapshot at DASHBOARD_SNAPSHOT_KEY, or null before any refresh wrote one.
 * @throws when S3 cannot be read, or the object is not a snapshot of this version
 */
async function readSnapshot(s3: S3Client, bucket: string): Promise<DashboardSnapshot | null> {
  const head = await headObject(s3, bucket, DASHBOARD_SNAPSHOT_KEY);
  if (!head) return null;
  if (cached && cached.bucket === bucket && head.etag !== '' && cached.etag === head.etag)
    return cached.snapshot;
  const value = await readJson<unknown>(s3, bucket, DASHBOARD_SNAPSHOT_KEY);
  if (value === null) return null;
  if (!isCurrentSnapshot(value)) {
    throw new Error(`s3://${bucket}/${DASHBOARD_SNAPSHOT_KEY} is not a dashboard snapshot of this version`);
  }
  // Keyed by the ETag HeadObject gave: should the object change between the two reads, the next request
  // sees a new ETag and reads it again.
  cached = { bucket, etag: head.etag, snapshot: value };
  return value;
}

/** GET / and GET /dashboard/{file}: one of the page's files, by exact name (src/dashboard/assets.ts). */
/**
 * GET /dashboard/auth-config.json: what the sign-in script needs (the hosted UI's domain, the reader
 * client, the redirect URI). Public, as the page is: none of it is a secret, and it is read before sign-in.
 * @throws NotFoundError in a deployment without Cognito (auth=apiKey)
 */
export function getSignInConfig(signIn: SignInConfig | null): HttpResponse {
  if (!signIn) {
    throw new NotFoundError('this deployment has no Cognito sign-in (auth=apiKey): send the API key instead');
  }
  return {
    statusCode: 200,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' },
    body: JSON.stringify(signIn),
  };
}

export async function getDashboardFile(file: string): Promise<HttpResponse> {
  try {
    const asset = await readAsset(file);
    return {
      statusCode: 200,
      headers: { 'Content-Type': asset.contentType, 'Cache-Control': 'no-cache' },
      body: asset.body,
    };
  } catch (error) {
    if (error instanceof UnknownAssetError) throw new NotFoundError(error.message);
    throw error;
  }
}
