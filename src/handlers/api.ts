import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ApiDeps, createApiDeps } from '../api/deps.js';
import { jsonErrors } from '../api/middleware/json-errors.js';
import { dispatch } from '../api/router.js';
import { loadApiConfig } from '../config/api.js';
import { once } from '../config/env.js';

/**
 * The API "lambda-lith": every route of the REST API, routed in `src/api/router.ts`.
 * `getDeps` is called by the routes that need services and must return the same clients each time.
 */
export function createApiHandler(getDeps: () => ApiDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(httpHeaderNormalizer())
    .use(jsonErrors())
    .handler((event: APIGatewayProxyEvent, context: Context) =>
      dispatch(event, getDeps, event.requestContext?.requestId ?? context.awsRequestId),
    );
}

/** Configuration and clients are made on the first request and kept for the container's life. */
export const handler = createApiHandler(once(() => createApiDeps(loadApiConfig(process.env))));
