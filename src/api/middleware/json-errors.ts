import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Log } from '../../log.js';
import { API_ERROR_CODES, ApiError } from '../errors.js';
import { json } from '../http.js';

export interface JsonErrorsOptions {
  /** Where unexpected errors (500s) and 503 causes are logged. */
  log: Log;
}

/**
 * Turns a thrown error into a JSON response `{ error, message, ...details }`.
 *
 * An `ApiError` answers with its status; anything else is a 500 whose body says only "internal error" and
 * the request id: the stack and the cause go to the log, never to the client.
 */
export function jsonErrors(
  options: JsonErrorsOptions,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const { log } = options;

  const jsonErrorsOnError = (request: Request<APIGatewayProxyEvent, APIGatewayProxyResult>): void => {
    if (request.response !== undefined && request.response !== null) return;
    const error = request.error;
    const requestId = request.context.awsRequestId;
    if (error instanceof ApiError) {
      // A 503 is expected under failure: log what failed underneath, without the stack.
      if (error.statusCode >= 500) {
        log.warn(error.message, { requestId, error: error.code, cause: causeOf(error) });
      }
      request.response = json(
        error.statusCode,
        { error: error.code, message: error.message, ...error.details },
        error.headers,
      );
      return;
    }
    log.error('unexpected error', { requestId, ...errorFields(error) });
    request.response = json(500, {
      error: API_ERROR_CODES.internal_error,
      message: `internal error (request ${requestId})`,
    });
  };

  return { onError: jsonErrorsOnError };
}

function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  return {
    error: error.name,
    detail: error.message,
    stack: error.stack,
    cause: causeOf(error),
  };
}

function causeOf(error: Error): unknown {
  return error.cause instanceof Error ? `${error.cause.name}: ${error.cause.message}` : error.cause;
}
