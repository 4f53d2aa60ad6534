import { readSignInConfig, type SignInConfig } from './auth.js';
import {
  type AwsConfig,
  awsConfig,
  ENV,
  type QuarantineConfig,
  quarantineConfig,
  type TablesConfig,
} from './aws.js';
import { type Env, read, requireVars } from './env.js';

/** What `src/handlers/api.ts` needs: the stream, the tables and the quarantine. */
export interface ApiConfig {
  stage: string;
  aws: AwsConfig;
  streamName: string;
  tables: TablesConfig;
  quarantine: QuarantineConfig;
  /** Where `GET /status` reads the last audit (`AUDIT_RESULT_KEY`): `AUDIT_BUCKET`, else the quarantine's. */
  auditBucket: string;
  /** The erase function DELETE /customers/{id} starts (`ERASE_FUNCTION_NAME`); unset, the route answers 501. */
  eraseFunction: string | undefined;
  /**
   * What the dashboard's sign-in script reads as `auth-config.json` (AUTH_DOMAIN, AUTH_CLIENT_ID,
   * AUTH_REDIRECT_URI); null in a deployment without Cognito, where the page asks for the API key.
   */
  signIn: SignInConfig | null;
}

export const API_VARS = [
  ENV.STAGE,
  ENV.STREAM_NAME,
  ENV.INVOICES_TABLE,
  ENV.CUSTOMERS_TABLE,
  ENV.QUARANTINE_BUCKET,
] as const;

/**
 * The API function's configuration.
 * @throws ConfigError naming every missing variable
 * @example loadApiConfig({ STAGE: 'dev', STREAM_NAME: 's', INVOICES_TABLE: 'i', CUSTOMERS_TABLE: 'c', QUARANTINE_BUCKET: 'q' })
 */
export function loadApiConfig(env: Env): ApiConfig {
  const v = requireVars(env, API_VARS, 'api');
  return {
    stage: v.STAGE,
    aws: awsConfig(env),
    streamName: v.STREAM_NAME,
    tables: { invoices: v.INVOICES_TABLE, customers: v.CUSTOMERS_TABLE },
    quarantine: quarantineConfig(env, v.QUARANTINE_BUCKET),
    auditBucket: read(env, ENV.AUDIT_BUCKET) ?? v.QUARANTINE_BUCKET,
    eraseFunction: read(env, ENV.ERASE_FUNCTION_NAME),
    signIn: readSignInConfig(env),
  };
}
