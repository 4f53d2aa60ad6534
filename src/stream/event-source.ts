/**
 * The event source mapping of the `transform` function: how Lambda reads the stream for it. One home for
 * both sides: the local Kinesis poller behaves by it, and the template test checks that
 * resources/functions/transform.yml declares the same.
 */
export const TRANSFORM_EVENT_SOURCE = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 500,
  /** MaximumBatchingWindowInSeconds. */
  batchWindowSeconds: 1,
  /** The handler answers `batchItemFailures`; Lambda retries from the first failed record only. */
  functionResponseType: 'ReportBatchItemFailures',
  bisectBatchOnFunctionError: true,
  maximumRetryAttempts: 5,
  maximumRecordAgeInSeconds: 3600,
} as const;
