/** Where Redshift statements run: pure host-name parsing and the target type the Data API adapter takes. */

/** Where statements run and as whom. Exactly one of `workgroupName` and `clusterIdentifier`. */
export interface RedshiftTarget {
  database: string;
  /** Secrets Manager secret with `username` and `password` of the database user. */
  secretArn: string;
  /** Redshift Serverless workgroup (name or ARN). */
  workgroupName?: string | undefined;
  /** Provisioned cluster identifier; it must match the one stored in the secret. */
  clusterIdentifier?: string | undefined;
}

/**
 * The workgroup or cluster named by an endpoint host: its first label, serverless when the host is under
 * `redshift-serverless.amazonaws.com`. Anything else names neither.
 * @example hostTarget('ecomflow.123456789012.eu-west-1.redshift-serverless.amazonaws.com').workgroupName === 'ecomflow'
 */
export function hostTarget(host: string | undefined): { workgroupName?: string; clusterIdentifier?: string } {
  const match =
    /^([a-z0-9-]+)\.[^.]+\.[a-z0-9-]+\.(redshift-serverless|redshift)\.amazonaws\.com(\.cn)?$/i.exec(
      host ?? '',
    );
  if (!match) return {};
  return match[2]!.toLowerCase() === 'redshift-serverless'
    ? { workgroupName: match[1]! }
    : { clusterIdentifier: match[1]! };
}
