import { ENV } from './aws.js';
import { type Env, read, requireVars } from './env.js';
import type { RedshiftTarget } from './redshift.js';
import { readRedshiftTarget } from './refresh.js';

/** The audit function's configuration (resources/functions/audit.yml sets it). */
export interface AuditConfig {
  stage: string;
  region: string | undefined;
  athena: { workGroup: string; database: string };
  redshift: RedshiftTarget;
  invoicesTable: string;
  dlqUrl: string;
  /** Where the result is kept for GET /status (`AUDIT_RESULT_KEY`). */
  auditBucket: string;
}

/**
 * @throws ConfigError naming every missing variable
 */
export function loadAuditConfig(env: Env): AuditConfig {
  const v = requireVars(
    env,
    [ENV.STAGE, ENV.ATHENA_WORKGROUP, ENV.GLUE_DATABASE, ENV.INVOICES_TABLE, ENV.DLQ_URL, ENV.AUDIT_BUCKET],
    'audit',
  );
  return {
    stage: v.STAGE,
    region: read(env, ENV.AWS_REGION),
    athena: { workGroup: v.ATHENA_WORKGROUP, database: v.GLUE_DATABASE },
    redshift: readRedshiftTarget(env, 'audit'),
    invoicesTable: v.INVOICES_TABLE,
    dlqUrl: v.DLQ_URL,
    auditBucket: v.AUDIT_BUCKET,
  };
}
