import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ApiDeps, createApiDeps } from '../api/deps.js';
import { jsonErrors } from '../api/middleware/json-errors.js';
import { dispatch } from '../api/router.js';
import type { HealthDetail } from '../api/routes.js';
import { loadApiConfig } from '../config/api.js';
import { once } from '../config/env.js';
import type { Log } from '../log.js';
import { asLog, logger } from './logger.js';

/**
 * The API "lambda-lith": every route of the REST API, routed in `src/api/router.ts`.
 * `getDeps` is called by the routes that need services and must return the same clients each time;
 * `health` is a host's own detail for GET /health (the local stack's).
 */
export function createApiHandler(
  getDeps: () => ApiDeps,
  log: Logger = logger,
  health?: HealthDetail,
  /** Where an unexpected failure is logged: the structured logger on AWS, the stack's own lines locally. */
  errorLog: Log = asLog(log),
) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(log))
    .use(httpHeaderNormalizer())
    .use(jsonErrors({ log: errorLog }))
    .handler((event: APIGatewayProxyEvent, context: Context) =>
      dispatch(event, getDeps, event.requestContext?.requestId ?? context.awsRequestId, health),
    );
}

/** Configuration and clients are made on the first request and kept for the container's life. */
export const handler = createApiHandler(once(() => createApiDeps(loadApiConfig(process.env))));
