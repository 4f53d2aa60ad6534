/**
 * The SQS DLQ source. There is no SQS stand-in among the project's emulators, so these tests give the
 * adapter a fake client that answers ReceiveMessage and DeleteMessage as SQS documents them, and check
 * what the adapter asks for.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { AdapterError } from '../../src/adapters/errors.js';
import { SQS_DLQ_VISIBILITY_SECONDS, sqsDlqSource } from '../../src/adapters/sqs.js';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ecomflow-prod-transform-dlq';

interface Sent {
  command: string;
  input: Record<string, unknown>;
}

/** A client whose ReceiveMessage answers the pages given, one per call, then empty pages. */
function fakeSqs(pages: { MessageId: string; ReceiptHandle: string; Body: string }[][]) {
  const sent: Sent[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ command: command.constructor.name, input: command.input });
      if (command.constructor.name === 'ReceiveMessageCommand') return { Messages: pages.shift() ?? [] };
      return {};
    },
  };
  return { client: client as unknown as SQSClient, sent };
}

describe('the SQS DLQ source', () => {
  it('receives one message at a time with a 1-second long poll, hiding it while it is redriven', async () => {
    // Prepare
    const { client, sent } = fakeSqs([[{ MessageId: 'm1', ReceiptHandle: 'r1', Body: '{"a":1}' }]]);
    const source = sqsDlqSource(client, QUEUE, { visibilityTimeoutSeconds: 120 });

    // Act
    const first = await source.receive();
    const second = await source.receive();

    // Assess
    expect(first).toEqual([{ id: 'm1', body: '{"a":1}' }]);
    expect(second).toEqual([]);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toEqual({
      command: 'ReceiveMessageCommand',
      input: { QueueUrl: QUEUE, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, VisibilityTimeout: 120 },
    });
  });

  it('hides a message for SQS_DLQ_VISIBILITY_SECONDS unless told otherwise', async () => {
    const { client, sent } = fakeSqs([]);
    await sqsDlqSource(client, QUEUE).receive();
    expect(sent[0]!.input['VisibilityTimeout']).toBe(SQS_DLQ_VISIBILITY_SECONDS);
  });

  it('deletes a message by the receipt handle it was received with', async () => {
    // Prepare
    const { client, sent } = fakeSqs([[{ MessageId: 'm1', ReceiptHandle: 'receipt-of-m1', Body: '{}' }]]);
    const source = sqsDlqSource(client, QUEUE);
    const [message] = await source.receive();

    // Act
    await source.delete(message!);

    // Assess
    expect(sent.at(-1)).toEqual({
      command: 'DeleteMessageCommand',
      input: { QueueUrl: QUEUE, ReceiptHandle: 'receipt-of-m1' },
    });
  });

  it('refuses to delete a message it did not receive, naming it', async () => {
    // Prepare
    const { client, sent } = fakeSqs([]);
    const source = sqsDlqSource(client, QUEUE);

    // Act
    const deleting = source.delete({ id: 'm9', body: '{}' });

    // Assess
    await expect(deleting).rejects.toBeInstanceOf(AdapterError);
    await expect(deleting).rejects.toThrow(/message m9 was not received/);
    expect(sent).toEqual([]);
  });
});
