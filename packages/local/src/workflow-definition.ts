/**
 * A workflow's ASL made runnable by aws-local-stepfunctions. The library runs Task states through
 * local functions (keyed by state name), but has no `.waitForTaskToken`, no heartbeats, resolves
 * `TimeoutSecondsPath` against the Task's Parameters rather than its input, and cannot scale a
 * Wait. So each Task and Wait state is rewritten to hand the runner (workflow-runner.ts) what it
 * needs, and the runner implements those itself:
 * - a Task's Parameters become `{ "task": { "parameters": <its Parameters>, "timeoutSeconds.$":
 *   <TimeoutSecondsPath>, "heartbeatSeconds.$": <HeartbeatSecondsPath> } }`: the library still
 *   resolves the paths and the payload template, and the runner keeps the timers;
 * - a Wait becomes a Task that the runner answers, once the time has passed, with its input;
 * - a Catch or Retry on `States.Timeout` also matches `States.HeartbeatTimeout`, as on AWS.
 */
import { workflowPlaceholders } from "@leadflow/manifest";
import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import { localAccountId, localRegion } from "./development.ts";

/** What the runner does for a Task state. */
export type TaskBinding = {
  state: string;
  /** The manifest task whose handler runs. */
  task: string;
  /**
   * `request-response`: `arn:aws:states:::lambda:invoke` (result: the Invoke response, the
   * handler's result as `Payload`); `callback`: `…lambda:invoke.waitForTaskToken` (result: what
   * SendTaskSuccess sends); `function`: the function's ARN as `Resource` (result: the handler's result).
   */
  kind: "request-response" | "callback" | "function";
  /** TimeoutSeconds as written in the ASL (scaled by `--fast` for callbacks); a path's value comes with the input. */
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
};

/** What the runner does for a Wait state: wait `seconds` (scaled by `--fast`), or take the time from the input. */
export type WaitBinding = { state: string; seconds?: number };

export interface CompiledWorkflow {
  name: string;
  /** The rewritten definition, for aws-local-stepfunctions (not validated again). */
  machine: StateMachine;
  tasks: ReadonlyMap<string, TaskBinding>;
  waits: ReadonlyMap<string, WaitBinding>;
}

/** What a rewritten Task hands the runner (the key its Parameters wrap everything in). */
export interface TaskInput {
  parameters: unknown;
  timeoutSeconds?: unknown;
  heartbeatSeconds?: unknown;
}

export interface WaitInput {
  input: unknown;
  seconds?: unknown;
  timestamp?: unknown;
}

export const wrapperKey = "leadflowLocal";

/**
 * `$$.Task.Token` resolves to this in every state (the library takes a fixed context object); the
 * runner replaces it with a fresh token each time a Task runs.
 */
export const taskTokenPlaceholder = "leadflow-local-task-token";

/** The library's own timer on each Task: longer than any local run, within setTimeout's range. */
const libraryTaskTimeoutSeconds = 2_000_000;

const lambdaInvoke = "arn:aws:states:::lambda:invoke";
const lambdaInvokeWithCallback = "arn:aws:states:::lambda:invoke.waitForTaskToken";

/** The ASL cannot run locally (or is invalid): said when `npm start` starts. */
export class WorkflowDefinitionError extends Error {
  override readonly name = "WorkflowDefinitionError";
  readonly code = "invalid_workflow_definition";
}

type Json = Record<string, unknown>;

/**
 * Checks the ASL (aws-local-stepfunctions' validator, with each `${Task}` placeholder as a function
 * ARN, as CloudFormation substitutes it) and rewrites it for the runner.
 */
export function compileWorkflow(name: string, asl: string, taskNames: readonly string[]): CompiledWorkflow {
  const fail = (message: string): never => {
    throw new WorkflowDefinitionError(`Workflow ${name}: ${message}`);
  };
  const definition = parseJson(asl, fail);
  const unknown = workflowPlaceholders(asl).filter((placeholder) => !taskNames.includes(placeholder));
  if (unknown.length > 0) fail(`\${${unknown.join("}, ${")}} ${unknown.length > 1 ? "are" : "is"} not among its tasks`);
  try {
    new StateMachine(substitutePlaceholders(definition, taskNames) as unknown as StateMachineDefinition);
  } catch (error) {
    fail((error as Error).message);
  }
  const tasks = new Map<string, TaskBinding>();
  const waits = new Map<string, WaitBinding>();
  const local = rewriteStates(definition, (stateName, state) => {
    if (state.Type === "Task") {
      const binding = taskBinding(stateName, state, taskNames, fail);
      tasks.set(stateName, binding);
      return localTask(state);
    }
    if (state.Type === "Wait") {
      waits.set(
        stateName,
        typeof state.Seconds === "number" ? { state: stateName, seconds: state.Seconds } : { state: stateName },
      );
      return localWait(state);
    }
    return state;
  });
  if (typeof local.TimeoutSeconds === "number" && local.TimeoutSeconds > libraryTaskTimeoutSeconds) {
    delete local.TimeoutSeconds;
  }
  const machine = new StateMachine(local as unknown as StateMachineDefinition, {
    validationOptions: { noValidate: true },
  });
  return { name, machine, tasks, waits };
}

/** Task states (nested ones included) that set neither TimeoutSeconds nor TimeoutSecondsPath. */
export function tasksWithoutTimeout(asl: string): string[] {
  const missing: string[] = [];
  const definition = parseJson(asl, (message) => {
    throw new WorkflowDefinitionError(message);
  });
  forEachState(definition, (stateName, state) => {
    if (state.Type === "Task" && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      missing.push(stateName);
    }
  });
  return missing;
}

/** The ARN a `${Task}` placeholder stands for locally (the name is what Lambda would call it). */
export function localFunctionArn(task: string): string {
  return `arn:aws:lambda:${localRegion}:${localAccountId}:function:${task}`;
}

function parseJson(text: string, fail: (message: string) => never): Json {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // reported below
  }
  return fail("the ASL is not a JSON object");
}

function substitutePlaceholders(definition: Json, taskNames: readonly string[]): Json {
  const text = JSON.stringify(definition).replace(/\$\{([^}]*)\}/g, (whole, task: string) =>
    taskNames.includes(task) ? localFunctionArn(task) : whole,
  );
  return JSON.parse(text) as Json;
}

/** A copy of the definition with every state (in Parallel branches and Map processors too) replaced by `rewrite`. */
function rewriteStates(definition: Json, rewrite: (name: string, state: Json) => Json): Json {
  const states = (definition.States ?? {}) as Record<string, Json>;
  const rewritten: Record<string, Json> = {};
  for (const [name, original] of Object.entries(states)) {
    let state = { ...original };
    if (Array.isArray(state.Branches)) {
      state.Branches = (state.Branches as Json[]).map((branch) => rewriteStates(branch, rewrite));
    }
    for (const processor of ["Iterator", "ItemProcessor"]) {
      if (state[processor]) state[processor] = rewriteStates(state[processor] as Json, rewrite);
    }
    state = rewrite(name, state);
    rewritten[name] = state;
  }
  return { ...definition, States: rewritten };
}

function forEachState(definition: Json, visit: (name: string, state: Json) => void): void {
  rewriteStates(definition, (name, state) => {
    visit(name, state);
    return state;
  });
}

function taskBinding(
  state: string,
  task: Json,
  taskNames: readonly string[],
  fail: (message: string) => never,
): TaskBinding {
  const where = `Task "${state}"`;
  if (task.TimeoutSeconds === undefined && task.TimeoutSecondsPath === undefined) {
    fail(`${where} sets neither TimeoutSeconds nor TimeoutSecondsPath (every Task of ours does)`);
  }
  if (
    task.InputPath !== undefined &&
    (task.TimeoutSecondsPath !== undefined || task.HeartbeatSecondsPath !== undefined)
  ) {
    fail(`${where}: TimeoutSecondsPath and HeartbeatSecondsPath are read from the state's input; drop its InputPath`);
  }
  const kind =
    task.Resource === lambdaInvoke
      ? "request-response"
      : task.Resource === lambdaInvokeWithCallback
        ? "callback"
        : typeof task.Resource === "string" && placeholderOf(task.Resource)
          ? "function"
          : fail(
              `${where}: the local runner runs Lambda tasks only (${lambdaInvoke}, ${lambdaInvokeWithCallback}, or \${Task} as Resource)`,
            );
  const parameters = (task.Parameters ?? {}) as Json;
  const functionName = kind === "function" ? (task.Resource as string) : parameters.FunctionName;
  const taskName = typeof functionName === "string" ? placeholderOf(functionName) : undefined;
  if (!taskName || !taskNames.includes(taskName)) {
    fail(`${where}: its function must be one of its manifest tasks as a \${Task} placeholder`);
  }
  if (kind === "callback" && !JSON.stringify(parameters).includes('"$$.Task.Token"')) {
    fail(`${where} waits for a task token but its Parameters never pass $$.Task.Token`);
  }
  return {
    state,
    task: taskName as string,
    kind,
    ...(typeof task.TimeoutSeconds === "number" ? { timeoutSeconds: task.TimeoutSeconds } : {}),
    ...(typeof task.HeartbeatSeconds === "number" ? { heartbeatSeconds: task.HeartbeatSeconds } : {}),
  };
}

function placeholderOf(value: string): string | undefined {
  return /^\$\{([^}]+)\}$/.exec(value)?.[1];
}

function localTask(task: Json): Json {
  const { TimeoutSeconds, TimeoutSecondsPath, HeartbeatSeconds, HeartbeatSecondsPath, Parameters, ...rest } = task;
  const wrapped: Json = Parameters === undefined ? { "parameters.$": "$" } : { parameters: Parameters };
  if (typeof TimeoutSecondsPath === "string") wrapped["timeoutSeconds.$"] = TimeoutSecondsPath;
  if (typeof HeartbeatSecondsPath === "string") wrapped["heartbeatSeconds.$"] = HeartbeatSecondsPath;
  return {
    ...rest,
    Parameters: { [wrapperKey]: wrapped },
    TimeoutSeconds: libraryTaskTimeoutSeconds,
    ...(Array.isArray(rest.Retry) ? { Retry: withHeartbeatTimeout(rest.Retry as Json[]) } : {}),
    ...(Array.isArray(rest.Catch) ? { Catch: withHeartbeatTimeout(rest.Catch as Json[]) } : {}),
  };
}

function localWait(wait: Json): Json {
  const { Seconds, SecondsPath, Timestamp, TimestampPath, Type: _type, ...rest } = wait;
  const wrapped: Json = { "input.$": "$" };
  if (Seconds !== undefined) wrapped.seconds = Seconds;
  if (typeof SecondsPath === "string") wrapped["seconds.$"] = SecondsPath;
  if (Timestamp !== undefined) wrapped.timestamp = Timestamp;
  if (typeof TimestampPath === "string") wrapped["timestamp.$"] = TimestampPath;
  return {
    ...rest,
    Type: "Task",
    Resource: "arn:aws:states:::leadflow-local:wait",
    Parameters: { [wrapperKey]: wrapped },
    TimeoutSeconds: libraryTaskTimeoutSeconds,
  };
}

/** On AWS, `States.Timeout` in a Retry or Catch also matches a heartbeat timeout. */
function withHeartbeatTimeout(rules: Json[]): Json[] {
  return rules.map((rule) => {
    const errors = (rule.ErrorEquals ?? []) as string[];
    if (!errors.includes("States.Timeout") || errors.includes("States.HeartbeatTimeout")) return rule;
    return { ...rule, ErrorEquals: [...errors, "States.HeartbeatTimeout"] };
  });
}
