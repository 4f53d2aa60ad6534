import { readJson, writeJson } from '../../adapters/s3-objects.js';
import { type CleanRangeOutput, cleanRange } from './clean-range.js';
import { type BatchDeps, timestamp } from './deps.js';
import { BatchEventError } from './errors.js';
import { type FinishOutput, finishLoad } from './finish.js';
import { findObject, type PlanOutput, planLoad, sourceIdOf } from './plan.js';
import { LOAD_PHASES, type LoadStatus, loadKeys } from './records.js';

/**
 * The batch function's events: one per state of the load's state machine
 * (resources/batch-state-machine.json), which builds them from the S3 event and the steps' outputs.
 */
export type BatchEvent =
  | { action: 'plan'; bucket: string; key: string }
  | { action: 'clean'; sourceId: string; index: number }
  | { action: 'load'; sourceId: string }
  | {
      action: 'fail';
      bucket: string;
      key: string;
      /** Present when the plan step got as far as naming the load. */
      sourceId?: string | null;
      /** Step Functions' error: `Error` is the error's name, `Cause` Lambda's JSON error object. */
      error: { Error?: string; Cause?: string };
    };

export type BatchResult = PlanOutput | CleanRangeOutput | FinishOutput | FailOutput;

/** Runs the step an event names. @throws BatchEventError for an event of no known shape */
export function runBatchStep(event: BatchEvent, deps: BatchDeps): Promise<BatchResult> {
  const e = event as Partial<Record<string, unknown>> | null;
  const text = (name: string) =>
    typeof e?.[name] === 'string' && e[name] !== '' ? (e[name] as string) : null;
  switch (e?.['action']) {
    case 'plan': {
      const bucket = text('bucket');
      const key = text('key');
      if (bucket && key) return planLoad(deps, { bucket, key });
      break;
    }
    case 'clean': {
      const sourceId = text('sourceId');
      const index = e['index'];
      if (sourceId && Number.isInteger(index)) return cleanRange(deps, { sourceId, index: index as number });
      break;
    }
    case 'load': {
      const sourceId = text('sourceId');
      if (sourceId) return finishLoad(deps, { sourceId });
      break;
    }
    case 'fail': {
      const bucket = text('bucket');
      const key = text('key');
      if (bucket && key) {
        return recordFailure(deps, {
          bucket,
          key,
          sourceId: text('sourceId'),
          error: (e['error'] ?? {}) as { Error?: string; Cause?: string },
        });
      }
      break;
    }
  }
  return Promise.reject(
    new BatchEventError(`not a batch step event: ${JSON.stringify(event)?.slice(0, 300)}`),
  );
}

export interface FailOutput {
  sourceId: string | null;
  error: { name: string; message: string };
}

/** The error a failed state reports, as a name and the original message. */
export function describeFailure(error: { Error?: string; Cause?: string }): {
  name: string;
  message: string;
} {
  const name = error.Error ?? 'Error';
  let message = error.Cause ?? name;
  try {
    // A Lambda error's cause is its JSON error object: {"errorType", "errorMessage", "trace"}.
    const cause = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // Not JSON: a Step Functions error (States.Timeout, ...) whose cause is plain text.
  }
  return { name, message };
}

/**
 * The state machine's catch-all: records `failed`, with the error, in the load's status, so that
 * `ecomflow load --target aws` stops waiting and says why. A load that failed before it was named (the
 * object vanished) has no status to write; the failure is then only in the execution's history.
 */
export async function recordFailure(
  deps: BatchDeps,
  input: { bucket: string; key: string; sourceId: string | null; error: { Error?: string; Cause?: string } },
): Promise<FailOutput> {
  const error = describeFailure(input.error);
  let sourceId = input.sourceId;
  let status: LoadStatus | null = null;
  if (sourceId) status = await readJson<LoadStatus>(deps.s3, deps.rawBucket, loadKeys(sourceId).status);
  const found = status ? null : await findObject(deps, input).catch(() => null);
  if (!status && found) {
    const source = { bucket: input.bucket, key: found.key, size: found.head.size, etag: found.head.etag };
    sourceId ??= sourceIdOf(source, found.head.metadata);
    status = (await readJson<LoadStatus>(deps.s3, deps.rawBucket, loadKeys(sourceId).status)) ?? {
      sourceId,
      source,
      phase: LOAD_PHASES.failed,
      mode: null,
      ranges: 0,
      report: null,
      lake: null,
      warehouse: null,
      quarantine: null,
      error: null,
      startedAt: timestamp(deps),
      updatedAt: timestamp(deps),
    };
  }
  deps.log?.error('load failed', { sourceId, key: input.key, error });
  if (!status || !sourceId) return { sourceId, error };
  await writeJson(deps.s3, deps.rawBucket, loadKeys(sourceId).status, {
    ...status,
    phase: LOAD_PHASES.failed,
    error,
    updatedAt: timestamp(deps),
  } satisfies LoadStatus);
  return { sourceId, error };
}
