import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LambdaContextOptions {
  /** Region and account of the function ARN; the local stack uses `local` and `000000000000`. */
  region?: string;
  account?: string;
  /** The invocation's time budget; `getRemainingTimeInMillis` counts down from it. */
  budgetMs?: number;
}

/**
 * A Lambda context for an invocation of `functionName`, as the local stack and the tests build it.
 * @example lambdaContext('ecomflow-local-api', 'req-1').awsRequestId === 'req-1'
 */
export function lambdaContext(
  functionName: string,
  requestId: string = randomUUID(),
  options: LambdaContextOptions = {},
): Context {
  const deadline = Date.now() + (options.budgetMs ?? 60_000);
  const region = options.region ?? 'local';
  const account = options.account ?? '000000000000';
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
