/**
 * A small interpreter of the Amazon States Language subset the batch state machine uses
 * (resources/batch-state-machine.json): Task, Choice (BooleanEquals), Map (inline), Succeed, Fail, with
 * Parameters / ItemSelector paths, ResultPath, Retry and Catch. There is no Step Functions emulator here;
 * this runs the real definition against the real handler, so a field the definition passes under the wrong
 * name, or a step that is not retried as the definition says, fails a test.
 *
 * JSONPath is limited to `$`, `$.a.b` and `$$.Map.Item.Value`; waits between retries are skipped.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

export interface StateMachineDefinition {
  StartAt: string;
  States: Record<string, Obj>;
}

/** The outcome of an execution, and the states it went through, in order. */
export interface Execution {
  status: 'SUCCEEDED' | 'FAILED';
  output: Json;
  error?: { Error: string; Cause: string };
  /** `State` or `State#attempt` for retried tasks; Map iterations as `Map/Inner`. */
  history: string[];
}

/** A Task's resource called with its input; a thrown error becomes a States error named after it. */
export type Invoke = (resource: string, input: Json) => Promise<Json>;

class StatesError extends Error {
  constructor(
    readonly error: string,
    readonly causeText: string,
  ) {
    super(`${error}: ${causeText}`);
  }
}

function path(value: Json, expression: string, context: Obj): Json {
  const [root, rest] = expression.startsWith('$$.')
    ? [context, expression.slice(3)]
    : [value, expression.slice(2)];
  if (expression === '$') return value;
  let current: Json | undefined = root;
  for (const step of rest.split('.')) {
    current =
      current !== null && typeof current === 'object' && !Array.isArray(current) ? current[step] : undefined;
    if (current === undefined) {
      throw new StatesError('States.Runtime', `the JSONPath ${expression} could not be found in the input`);
    }
  }
  return current;
}

/** Parameters/ItemSelector: keys ending in `.$` take the value at a path. */
function select(template: Json, input: Json, context: Obj): Json {
  if (template === null || typeof template !== 'object') return template;
  if (Array.isArray(template)) return template.map((t) => select(t, input, context));
  const out: Obj = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) out[key.slice(0, -2)] = path(input, String(value), context);
    else out[key] = select(value, input, context);
  }
  return out;
}

function place(input: Json, resultPath: Json | undefined, result: Json): Json {
  if (resultPath === undefined || resultPath === '$') return result;
  if (resultPath === null) return input;
  const steps = String(resultPath).slice(2).split('.');
  const copy = structuredClone(input) as Obj;
  let target = copy;
  for (const step of steps.slice(0, -1)) {
    target[step] ??= {};
    target = target[step] as Obj;
  }
  target[steps.at(-1)!] = result;
  return copy;
}

function matches(errorEquals: Json, name: string): boolean {
  const names = errorEquals as string[];
  return names.includes(name) || (names.includes('States.ALL') && !name.startsWith('States.Runtime'));
}

/** Runs a definition from `StartAt` to a terminal state. */
export async function runStateMachine(
  definition: StateMachineDefinition,
  input: Json,
  invoke: Invoke,
): Promise<Execution> {
  const history: string[] = [];
  try {
    const output = await runStates(definition, input, invoke, history, '', {});
    return { status: 'SUCCEEDED', output, history };
  } catch (err) {
    if (err instanceof StatesError) {
      return { status: 'FAILED', output: null, error: { Error: err.error, Cause: err.causeText }, history };
    }
    throw err;
  }
}

async function runStates(
  definition: StateMachineDefinition,
  input: Json,
  invoke: Invoke,
  history: string[],
  prefix: string,
  context: Obj,
): Promise<Json> {
  let name = definition.StartAt;
  let value = input;
  for (;;) {
    const state = definition.States[name];
    if (!state) throw new Error(`no state ${name}`);
    history.push(`${prefix}${name}`);
    const type = state['Type'];
    if (type === 'Succeed') return value;
    if (type === 'Fail') {
      const error = state['ErrorPath']
        ? String(path(value, String(state['ErrorPath']), context))
        : String(state['Error']);
      const cause = state['CausePath']
        ? String(path(value, String(state['CausePath']), context))
        : String(state['Cause'] ?? '');
      throw new StatesError(error, cause);
    }
    if (type === 'Choice') {
      const choice = (state['Choices'] as Obj[]).find(
        (c) => path(value, String(c['Variable']), context) === c['BooleanEquals'],
      );
      name = String(choice?.['Next'] ?? state['Default']);
      continue;
    }
    let result: Json;
    try {
      result =
        type === 'Map'
          ? await runMap(state, value, invoke, history, `${prefix}${name}/`)
          : await runTask(state, value, invoke, history, `${prefix}${name}`, context);
    } catch (err) {
      if (!(err instanceof StatesError)) throw err;
      const catcher = ((state['Catch'] ?? []) as Obj[]).find((c) => matches(c['ErrorEquals']!, err.error));
      if (!catcher) throw err;
      value = place(value, catcher['ResultPath'], { Error: err.error, Cause: err.causeText });
      name = String(catcher['Next']);
      continue;
    }
    value = place(value, state['ResultPath'], result);
    if (state['End'] === true) return value;
    name = String(state['Next']);
  }
}

async function runTask(
  state: Obj,
  input: Json,
  invoke: Invoke,
  history: string[],
  label: string,
  context: Obj,
): Promise<Json> {
  const payload = state['Parameters'] === undefined ? input : select(state['Parameters'], input, context);
  const attempts = new Map<Obj, number>();
  for (;;) {
    try {
      // The Lambda runtime serialises the event and the result.
      return JSON.parse(JSON.stringify(await invoke(String(state['Resource']), payload))) as Json;
    } catch (err) {
      const e = err as Error;
      const failure =
        err instanceof StatesError
          ? err
          : new StatesError(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message }));
      const retrier = ((state['Retry'] ?? []) as Obj[]).find((r) =>
        matches(r['ErrorEquals']!, failure.error),
      );
      const made = retrier ? (attempts.get(retrier) ?? 0) : 0;
      if (!retrier || made >= Number(retrier['MaxAttempts'] ?? 3)) throw failure;
      attempts.set(retrier, made + 1);
      history.push(`${label}#retry${made + 1}`);
    }
  }
}

async function runMap(
  state: Obj,
  input: Json,
  invoke: Invoke,
  history: string[],
  prefix: string,
): Promise<Json> {
  const items = path(input, String(state['ItemsPath'] ?? '$'), {}) as Json[];
  const processor = state['ItemProcessor'] as unknown as StateMachineDefinition;
  const limit = Number(state['MaxConcurrency'] ?? 0) || items.length || 1;
  const results: Json[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const context: Obj = { Map: { Item: { Index: index, Value: items[index] ?? null } } };
      const itemInput =
        state['ItemSelector'] === undefined
          ? (items[index] ?? null)
          : select(state['ItemSelector'], input, context);
      results[index] = await runStates(processor, itemInput, invoke, history, prefix, context);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, Math.max(items.length, 1)) }, worker));
  return results;
}
