/**
 * The deployed transform function as the redrive's transformer. There is no Lambda stand-in among the
 * project's emulators, so these tests give the adapter a fake client that answers Invoke as Lambda
 * documents it (a Payload, and FunctionError when the handler threw or timed out).
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { FunctionInvokeError } from '../../src/adapters/errors.js';
import { invokeAsync, lambdaTransformer } from '../../src/adapters/lambda.js';
import { erasureInvoker } from '../../src/api/deps.js';
import { parseErasureRequest } from '../../src/core/erasure.js';
import { kinesisEvent, kinesisRecord } from '../helpers/events.js';

/** A client whose Invoke answers `answer`, recording each request. */
function fakeLambda(answer: { Payload?: string; FunctionError?: string }) {
  const sent: Record<string, unknown>[] = [];
  const client = {
    send: async (command: { input: Record<string, unknown> }) => {
      sent.push(command.input);
      return {
        StatusCode: 200,
        ...(answer.FunctionError ? { FunctionError: answer.FunctionError } : {}),
        ...(answer.Payload !== undefined ? { Payload: new TextEncoder().encode(answer.Payload) } : {}),
      };
    },
  };
  return { client: client as unknown as LambdaClient, sent };
}

const event = kinesisEvent([kinesisRecord({ data: 'x', sequenceNumber: '1001' })]);

describe('the Lambda transformer', () => {
  it('invokes the function synchronously with the event, and returns its batchItemFailures', async () => {
    // Prepare
    const { client, sent } = fakeLambda({ Payload: '{"batchItemFailures":[{"itemIdentifier":"1001"}]}' });

    // Act
    const response = await lambdaTransformer(client, 'ecomflow-prod-transform')(event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '1001' }] });
    expect(sent[0]).toMatchObject({
      FunctionName: 'ecomflow-prod-transform',
      InvocationType: 'RequestResponse',
    });
    expect(JSON.parse(Buffer.from(sent[0]!['Payload'] as Uint8Array).toString('utf8'))).toEqual(event);
  });

  it('reads an empty answer as a batch wholly stored', async () => {
    const { client } = fakeLambda({ Payload: 'null' });
    expect(await lambdaTransformer(client, 'f')(event)).toEqual({ batchItemFailures: [] });
  });

  it('throws FunctionInvokeError on a function error, with the error Lambda reported', async () => {
    // Prepare
    const { client } = fakeLambda({
      FunctionError: 'Unhandled',
      Payload: '{"errorType":"DynamoWriteError","errorMessage":"table gone"}',
    });

    // Act
    const invoking = lambdaTransformer(client, 'ecomflow-prod-transform')(event);

    // Assess
    await expect(invoking).rejects.toBeInstanceOf(FunctionInvokeError);
    await expect(invoking).rejects.toThrow(
      'ecomflow-prod-transform answered Unhandled: DynamoWriteError: table gone',
    );
  });

  it('throws on an answer that is not a batch response', async () => {
    const { client } = fakeLambda({ Payload: '"done"' });
    await expect(lambdaTransformer(client, 'f')(event)).rejects.toThrow(/not a batch response/);
  });
});

describe('the erase function started from the API', () => {
  /** A client whose Invoke answers with `status`, as Lambda answers an Event invocation (202 when queued). */
  function fakeAsyncLambda(status: number) {
    const sent: Record<string, unknown>[] = [];
    const client = {
      send: async (command: { input: Record<string, unknown> }) => {
        sent.push(command.input);
        return { StatusCode: status };
      },
    };
    return { client: client as unknown as LambdaClient, sent };
  }

  it('queues the request as an asynchronous invocation, the event the erase function parses', async () => {
    // Prepare
    const { client, sent } = fakeAsyncLambda(202);
    const request = {
      erasureId: '20261203T170000Z-0a1b2c3d',
      customerId: 17850,
      requestedAt: new Date('2026-12-03T17:00:00Z'),
    };
    // Act
    await erasureInvoker(client, 'ecomflow-prod-erase')(request);
    // Assess
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ FunctionName: 'ecomflow-prod-erase', InvocationType: 'Event' });
    const payload = JSON.parse(Buffer.from(sent[0]!['Payload'] as Uint8Array).toString('utf8'));
    expect(parseErasureRequest(payload)).toEqual(request);
  });

  it('fails when Lambda does not queue the event, so the API answers an error and no 202', async () => {
    const { client } = fakeAsyncLambda(200);
    await expect(invokeAsync(client, 'ecomflow-prod-erase', {})).rejects.toBeInstanceOf(FunctionInvokeError);
  });
});
