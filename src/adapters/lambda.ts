import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { AwsConfig } from '../config/aws.js';
import type { Transformer } from '../stream/redrive.js';
import { type ClientOptions, sdkRetryStrategy } from './aws.js';
import { FunctionInvokeError } from './errors.js';

/** Service limits of `Invoke`. */
export const LAMBDA_LIMITS = {
  /** A synchronous (RequestResponse) invocation's request payload is at most 6 MB. */
  maxSyncPayloadBytes: 6 * 1024 * 1024,
  /** An asynchronous (Event) invocation's payload is at most 1 MB (the Invoke API reference). */
  maxAsyncPayloadBytes: 1024 * 1024,
} as const;

/**
 * The most bytes of records one Kinesis event for the `transform` function holds: the synchronous payload
 * limit, less room for the event's own JSON. The event source mapping passes a batch "up to the payload
 * limit for synchronous invocation (6 MB)" (EventSourceMappingConfiguration, BatchSize).
 */
export const KINESIS_EVENT_RECORDS_MAX_BYTES = LAMBDA_LIMITS.maxSyncPayloadBytes - 64 * 1024;

/**
 * Queues one asynchronous invocation of `functionName` with `payload` (InvocationType Event): Lambda
 * answers 202 once the event is queued, runs the function after, and retries a failed run up to twice.
 * @throws FunctionInvokeError when Lambda does not accept the event
 */
export async function invokeAsync(
  client: LambdaClient,
  functionName: string,
  payload: unknown,
): Promise<void> {
  const body = Buffer.from(JSON.stringify(payload));
  if (body.byteLength > LAMBDA_LIMITS.maxAsyncPayloadBytes) {
    throw new RangeError(
      `an asynchronous invocation takes ${LAMBDA_LIMITS.maxAsyncPayloadBytes} bytes, not ${body.byteLength}`,
    );
  }
  const out = await client.send(
    new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: body }),
  );
  if (out.StatusCode !== 202) {
    throw new FunctionInvokeError(
      functionName,
      `${functionName} did not queue the event (status ${out.StatusCode})`,
    );
  }
}

/** A Lambda client for the real AWS endpoint. */
export function createLambdaClient(aws: AwsConfig, options: ClientOptions = {}): LambdaClient {
  return new LambdaClient({
    ...(aws.region ? { region: aws.region } : {}),
    retryStrategy: options.retryStrategy ?? sdkRetryStrategy(),
  });
}

/**
 * The deployed `transform` function as the redrive's transformer: each Kinesis event is sent with Invoke
 * (RequestResponse), and its answer's `batchItemFailures` come back. A function error (FunctionError in the
 * answer: the handler threw, or timed out) or an answer that is not a batch response throws
 * FunctionInvokeError, as the event source mapping would count it a failed batch.
 */
export function lambdaTransformer(client: LambdaClient, functionName: string): Transformer {
  return async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    const out = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(event)),
      }),
    );
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError) {
      const detail = parseJson(text) as { errorType?: string; errorMessage?: string } | undefined;
      throw new FunctionInvokeError(
        functionName,
        `${functionName} answered ${out.FunctionError}: ${detail?.errorType ?? 'Error'}: ${detail?.errorMessage ?? text.slice(0, 200)}`,
      );
    }
    const response = parseJson(text) as KinesisStreamBatchResponse | null | undefined;
    // A handler that returns nothing has stored the whole batch, as Lambda reads it.
    if (response === null || (response === undefined && text.trim() === '')) return { batchItemFailures: [] };
    if (
      typeof response !== 'object' ||
      (response.batchItemFailures !== undefined && !Array.isArray(response.batchItemFailures))
    ) {
      throw new FunctionInvokeError(
        functionName,
        `${functionName} answered ${JSON.stringify(text.slice(0, 200))}, not a batch response`,
      );
    }
    return { batchItemFailures: response.batchItemFailures ?? [] };
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
