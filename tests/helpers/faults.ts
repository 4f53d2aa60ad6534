/**
 * Fault injection on real SDK clients: a middleware at the `initialize` step sees a command's input before
 * it is serialized and can change it, answer in place of the service, or rewrite the service's answer.
 * The request still goes to the emulator, so what the service stored is real.
 */

import { type ClientOptions, sdkRetryStrategy } from '../../src/adapters/aws.js';

type Handler = (args: { input: unknown }) => Promise<{ output: unknown }>;

interface ClientWithStack {
  middlewareStack: {
    add(middleware: unknown, options: unknown): void;
    remove(name: string): boolean;
  };
}

/**
 * Intercepts every `commandName` (e.g. `PutRecordsCommand`) sent through `client`.
 * `intercept(input, next, call)` returns the output, calling `next(input)` to reach the service; `call`
 * counts the intercepted commands from 1. Returns a function that removes the interceptor.
 */
export function interceptCommand<I, O>(
  client: ClientWithStack,
  commandName: string,
  intercept: (input: I, next: (input: I) => Promise<O>, call: number) => Promise<O>,
  /**
   * `initialize` (the default) sits above the SDK's retries and sees each command once; `deserialize` sits
   * below them and sees every attempt, so an error thrown there is one the SDK's strategy may retry.
   */
  step: 'initialize' | 'deserialize' = 'initialize',
): () => void {
  const name = `fault-${commandName}-${Math.random().toString(36).slice(2)}`;
  let calls = 0;
  const middleware =
    (next: Handler, context: { commandName?: string }): Handler =>
    async (args) => {
      if (context.commandName !== commandName) return next(args);
      calls++;
      const output = await intercept(
        args.input as I,
        async (input) => (await next({ ...args, input })).output as O,
        calls,
      );
      return { output };
    };
  client.middlewareStack.add(middleware, { step, name, priority: 'high' });
  return () => {
    client.middlewareStack.remove(name);
  };
}

/** A service error as the SDK raises it, e.g. `serviceError('AccessDeniedException', 403, 'client')`. */
export function serviceError(
  name: string,
  status: number,
  fault: 'client' | 'server',
  message = name,
): Error {
  return Object.assign(new Error(message), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}

/** Retry options that keep fault tests fast: several attempts, no real waiting. */
export const FAST_RETRY = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 } as const;

/** Client options with the SDK's whole-request retries at FAST_RETRY's pace; one strategy per client. */
export function fastClientOptions(): ClientOptions {
  return { retryStrategy: sdkRetryStrategy(FAST_RETRY) };
}
