import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { AwsConfig } from '../config/aws.js';
import type { DlqMessage, DlqSource } from '../stream/redrive.js';
import { type ClientOptions, sdkRetryStrategy } from './aws.js';
import { AdapterError } from './errors.js';

/** An SQS client for the real AWS endpoint (no local stand-in speaks SQS here). */
export function createSqsClient(aws: AwsConfig, options: ClientOptions = {}): SQSClient {
  return new SQSClient({
    ...(aws.region ? { region: aws.region } : {}),
    retryStrategy: options.retryStrategy ?? sdkRetryStrategy(),
  });
}

export interface SqsDlqOptions {
  /**
   * How long a received message stays hidden from other receives: longer than the redrive of one message
   * takes (a few invocations of the transform function, 120 s at most each), so this run does not
   * receive it again while it works on it. A message it keeps shows in the queue again after this.
   */
  visibilityTimeoutSeconds?: number;
}

/** Five minutes: one message's redrive, with room. */
export const SQS_DLQ_VISIBILITY_SECONDS = 300;

/**
 * The transform function's DLQ on AWS as a redrive source: ReceiveMessage one message at a time (so that
 * the visibility timeout covers the one message being redriven, not a page of ten waiting their turn),
 * and DeleteMessage by the receipt handle of its receive.
 *
 * It waits 1 second per receive (the shortest long poll) rather than short-polling: a short poll samples
 * only some of SQS's servers and can answer empty while a small queue still holds messages ("Amazon SQS
 * short and long polling", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html),
 * and an empty answer is what ends the redrive. A long poll queries them all and returns as soon as a
 * message is there, so it costs a second only at the end.
 */
export function sqsDlqSource(client: SQSClient, queueUrl: string, options: SqsDlqOptions = {}): DlqSource {
  const receipts = new Map<string, string>();
  return {
    async receive(): Promise<DlqMessage[]> {
      const out = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 1,
          VisibilityTimeout: options.visibilityTimeoutSeconds ?? SQS_DLQ_VISIBILITY_SECONDS,
        }),
      );
      return (out.Messages ?? []).map((m) => {
        receipts.set(m.MessageId!, m.ReceiptHandle!);
        return { id: m.MessageId!, body: m.Body ?? '' };
      });
    },
    async delete(message: DlqMessage): Promise<void> {
      const receipt = receipts.get(message.id);
      if (!receipt) {
        throw new AdapterError(
          'queue_delete_failed',
          'sqs',
          queueUrl,
          `message ${message.id} was not received from ${queueUrl} in this run`,
        );
      }
      await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
    },
  };
}

/** Messages in a queue, visible and in flight (GetQueueAttributes' approximate counts). */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<number> {
  const out = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const attributes = out.Attributes ?? {};
  return (
    Number(attributes['ApproximateNumberOfMessages'] ?? 0) +
    Number(attributes['ApproximateNumberOfMessagesNotVisible'] ?? 0)
  );
}
