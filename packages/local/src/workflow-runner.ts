/**
 * Executions of the workflows on this machine: aws-local-stepfunctions runs each ASL, and this
 * runs its Task and Wait states (see workflow-definition.ts): the task handlers, the callback
 * pattern (a fresh token per `.waitForTaskToken` Task, answered by SendTaskSuccess/Failure, kept
 * alive by SendTaskHeartbeat), Task timeouts and heartbeat timeouts, and Waits. Executions live
 * in memory, as long as the process.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine } from "aws-local-stepfunctions";
import {
  type CompiledWorkflow,
  type TaskBinding,
  type TaskInput,
  taskTokenPlaceholder,
  type WaitBinding,
  type WaitInput,
  wrapperKey,
} from "./workflow-definition.ts";

export interface WorkflowRunnerOptions {
  /** Compiled workflows by state machine ARN. */
  workflows: ReadonlyMap<string, CompiledWorkflow>;
  /** Runs a task's handler with an event, as Lambda would (JSON in, JSON out). */
  invoke: (workflow: string, task: string, event: unknown) => Promise<unknown>;
  /**
   * Multiplies the times the ASL itself sets for waiting on people and clocks: Wait `Seconds`,
   * and `TimeoutSeconds`/`HeartbeatSeconds` of `.waitForTaskToken` Tasks (1/60 with `--fast`).
   * Times the input carries (`…Path`, `Timestamp`) are the handlers' own, already at their scale;
   * a request-response Task's timeout bounds a handler's work, which `--fast` does not speed up.
   */
  timeScale: number;
}

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /**
   * States entered so far (what Step Functions Standard bills as state transitions). Local only:
   * AWS's DescribeExecution has no such field; `npm run bench -- alerts` reads it.
   */
  stateTransitions: number;
}

/** The errors Step Functions answers with (its `__type`), for the endpoint to send back. */
export type StepFunctionsErrorCode =
  | "ExecutionAlreadyExists"
  | "ExecutionDoesNotExist"
  | "InvalidArn"
  | "InvalidExecutionInput"
  | "InvalidName"
  | "InvalidOutput"
  | "InvalidToken"
  | "StateMachineDoesNotExist"
  | "TaskTimedOut"
  | "ValidationException";

export class StepFunctionsError extends Error {
  override readonly name = "StepFunctionsError";
  readonly code: StepFunctionsErrorCode;

  constructor(code: StepFunctionsErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Executions closed longer ago than the newest this many are forgotten (AWS keeps them 90 days). */
const closedExecutionsKept = 10_000;
/** Step Functions' limit on input and output sizes. */
const maxPayloadBytes = 256 * 1024;
/** AWS refuses names with white space, brackets, wildcards, these characters, or control characters. */
const invalidNameCharacters = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]|\p{Cc}/u;
/** Our tokens: anything else was never issued here (InvalidToken), these were and are closed (TaskTimedOut). */
const taskTokenFormat = /^AQ[A-Za-z0-9_-]{128}$/;

type Json = Record<string, unknown>;

interface Execution extends ExecutionDescription {
  workflow: CompiledWorkflow;
  abort: AbortController;
}

interface PendingTask {
  execution: Execution;
  answer: PromiseWithResolvers<unknown>;
  heartbeat?: { ms: number; cancel: () => void };
}

export async function workflowRunner(options: WorkflowRunnerOptions) {
  const executions = new Map<string, Execution>();
  const closed: string[] = [];
  const pendingTasks = new Map<string, PendingTask>();
  const statesTimeout = await statesTimeoutErrors();

  function start(request: { stateMachineArn: string; name?: string; input?: string }) {
    const workflow = options.workflows.get(request.stateMachineArn);
    if (!workflow) {
      if (!request.stateMachineArn.startsWith("arn:")) throw new StepFunctionsError("InvalidArn", "Invalid Arn");
      throw new StepFunctionsError(
        "StateMachineDoesNotExist",
        `State Machine Does Not Exist: '${request.stateMachineArn}'`,
      );
    }
    const name = request.name ?? randomUUID();
    if (name.length < 1 || name.length > 80 || invalidNameCharacters.test(name)) {
      throw new StepFunctionsError("InvalidName", `Invalid Name: '${name}'`);
    }
    const input = request.input ?? "{}";
    const parsedInput = parseJsonPayload(input, "InvalidExecutionInput");
    const executionArn = `${request.stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
    const existing = executions.get(executionArn);
    if (existing) {
      // As on AWS: the same name and input while it runs is the same start; anything else is refused.
      if (existing.status === "RUNNING" && existing.input === input) return summary(existing);
      throw new StepFunctionsError("ExecutionAlreadyExists", `Execution Already Exists: '${executionArn}'`);
    }
    const execution: Execution = {
      executionArn,
      stateMachineArn: request.stateMachineArn,
      name,
      status: "RUNNING",
      startDate: new Date(),
      input,
      stateTransitions: 0,
      workflow,
      abort: new AbortController(),
    };
    executions.set(executionArn, execution);
    run(execution, parsedInput);
    return summary(execution);
  }

  function run(execution: Execution, input: unknown) {
    const { workflow } = execution;
    const stateMachineName = execution.stateMachineArn.split(":").at(-1);
    const handlers: Record<string, (input: Json) => Promise<never>> = {};
    for (const binding of workflow.tasks.values()) {
      handlers[binding.state] = (wrapped) =>
        runTask(execution, binding, wrapped[wrapperKey] as TaskInput) as Promise<never>;
    }
    for (const binding of workflow.waits.values()) {
      handlers[binding.state] = (wrapped) =>
        runWait(execution, binding, wrapped[wrapperKey] as WaitInput) as Promise<never>;
    }
    const { result, abort, eventLogs } = workflow.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers as never },
      context: {
        Execution: { Id: execution.executionArn, Name: execution.name },
        StateMachine: { Id: execution.stateMachineArn, Name: stateMachineName },
        Task: { Token: taskTokenPlaceholder },
      },
    });
    execution.abort.signal.addEventListener("abort", abort, { once: true });
    void countTransitions(execution, eventLogs);
    result.then(
      (output) => close(execution, { status: "SUCCEEDED", output: JSON.stringify(output) }),
      (error: unknown) => close(execution, outcomeOf(error)),
    );
  }

  async function countTransitions(execution: Execution, logs: AsyncIterable<{ type: string }>) {
    for await (const log of logs) if (log.type === "StateEntered") execution.stateTransitions++;
  }

  function close(execution: Execution, outcome: Pick<ExecutionDescription, "status" | "output" | "error" | "cause">) {
    if (execution.status !== "RUNNING") return;
    Object.assign(execution, outcome, { stopDate: new Date() });
    execution.abort.abort();
    closed.push(execution.executionArn);
    while (closed.length > closedExecutionsKept) executions.delete(closed.shift() as string);
  }

  async function runTask(execution: Execution, binding: TaskBinding, task: TaskInput): Promise<unknown> {
    const scale = binding.kind === "callback" ? options.timeScale : 1;
    const timeoutMs = millisecondsOf(binding.timeoutSeconds, task.timeoutSeconds, "TimeoutSecondsPath", scale);
    const heartbeatMs =
      binding.heartbeatSeconds === undefined && task.heartbeatSeconds === undefined
        ? undefined
        : millisecondsOf(binding.heartbeatSeconds, task.heartbeatSeconds, "HeartbeatSecondsPath", scale);
    const token = binding.kind === "callback" ? newTaskToken() : undefined;
    const parameters = token ? withToken(task.parameters, token) : task.parameters;
    const event = binding.kind === "function" ? parameters : (parameters as Json | null)?.Payload;

    const answer = Promise.withResolvers<unknown>();
    const stopTimeout = after(timeoutMs, () => answer.reject(statesTimeout("States.Timeout")));
    const stopOnAbort = onAbort(execution, () => answer.reject(new ExecutionAbortedError()));
    if (token) {
      const pending: PendingTask = { execution, answer };
      if (heartbeatMs !== undefined) pending.heartbeat = heartbeatTimer(pending, heartbeatMs);
      pendingTasks.set(token, pending);
    }
    options.invoke(execution.workflow.name, binding.task, event).then(
      (result) => {
        // A callback task ends with its answer; the handler's own result is dropped, as on AWS.
        if (token) return;
        answer.resolve(binding.kind === "request-response" ? invokeResponse(result) : result);
      },
      (error: unknown) => answer.reject(functionError(error)),
    );
    try {
      return await answer.promise;
    } finally {
      stopTimeout();
      stopOnAbort();
      if (token) {
        pendingTasks.get(token)?.heartbeat?.cancel();
        pendingTasks.delete(token);
      }
    }
  }

  function heartbeatTimer(pending: PendingTask, ms: number) {
    return { ms, cancel: after(ms, () => pending.answer.reject(statesTimeout("States.HeartbeatTimeout"))) };
  }

  async function runWait(execution: Execution, binding: WaitBinding, wait: WaitInput): Promise<unknown> {
    const ms =
      binding.seconds !== undefined
        ? binding.seconds * options.timeScale * 1000
        : wait.seconds !== undefined
          ? nonNegativeInteger(wait.seconds, "SecondsPath") * 1000
          : timestampOf(wait.timestamp) - Date.now();
    const done = Promise.withResolvers<void>();
    const stopWaiting = after(Math.max(0, ms), done.resolve);
    const stopOnAbort = onAbort(execution, () => done.reject(new ExecutionAbortedError()));
    try {
      await done.promise;
      return wait.input;
    } finally {
      stopWaiting();
      stopOnAbort();
    }
  }

  function pendingTask(taskToken: string): PendingTask {
    const pending = pendingTasks.get(taskToken);
    if (pending) return pending;
    if (taskTokenFormat.test(taskToken)) {
      throw new StepFunctionsError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'");
    }
    throw new StepFunctionsError("InvalidToken", "Invalid Token: 'Invalid token'");
  }

  return {
    start,

    describe(executionArn: string): ExecutionDescription {
      const execution = executions.get(executionArn);
      if (!execution) {
        if (!executionArn.startsWith("arn:")) throw new StepFunctionsError("InvalidArn", "Invalid Arn");
        throw new StepFunctionsError("ExecutionDoesNotExist", `Execution Does Not Exist: '${executionArn}'`);
      }
      const { workflow: _workflow, abort: _abort, ...description } = execution;
      return description;
    },

    sendTaskSuccess(taskToken: string, output: string) {
      const pending = pendingTask(taskToken);
      pending.answer.resolve(parseJsonPayload(output, "InvalidOutput"));
    },

    sendTaskFailure(taskToken: string, error?: string, cause?: string) {
      const pending = pendingTask(taskToken);
      pending.answer.reject(Object.assign(new Error(cause ?? ""), { name: error ?? "" }));
    },

    sendTaskHeartbeat(taskToken: string) {
      const pending = pendingTask(taskToken);
      if (!pending.heartbeat) return;
      pending.heartbeat.cancel();
      pending.heartbeat = heartbeatTimer(pending, pending.heartbeat.ms);
    },

    /** Aborts every running execution: their timers stop and their tokens answer TaskTimedOut. */
    stop() {
      for (const execution of executions.values()) {
        if (execution.status === "RUNNING") close(execution, { status: "ABORTED" });
      }
    },
  };
}

export type WorkflowRunner = Awaited<ReturnType<typeof workflowRunner>>;

function summary(execution: Execution) {
  return { executionArn: execution.executionArn, startDate: execution.startDate };
}

function outcomeOf(error: unknown): Pick<ExecutionDescription, "status" | "error" | "cause"> {
  if (error instanceof ExecutionAbortedError) return { status: "ABORTED" };
  if (error instanceof ExecutionTimeoutError) return { status: "TIMED_OUT", error: "States.Timeout" };
  const cause = error instanceof ExecutionError ? error.cause : error;
  if (cause instanceof Error) return { status: "FAILED", error: cause.name, cause: cause.message };
  return { status: "FAILED", error: "States.Runtime", cause: String(cause) };
}

function parseJsonPayload(text: string, code: "InvalidExecutionInput" | "InvalidOutput"): unknown {
  if (Buffer.byteLength(text) > maxPayloadBytes) {
    throw new StepFunctionsError(code, `${code === "InvalidOutput" ? "Output" : "Input"} is over 256 KB`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new StepFunctionsError(code, `Invalid ${code === "InvalidOutput" ? "Output" : "Execution Input"}: not JSON`);
  }
}

/** Random like AWS's (opaque, URL-safe, well under its 1,024 characters), and recognisable as ours. */
function newTaskToken(): string {
  return `AQ${randomBytes(96).toString("base64url")}`;
}

function withToken(value: unknown, token: string): unknown {
  if (value === taskTokenPlaceholder) return token;
  if (Array.isArray(value)) return value.map((item) => withToken(item, token));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withToken(item, token)]));
  }
  return value;
}

/** What `arn:aws:states:::lambda:invoke` gives the state: Lambda's Invoke response. */
function invokeResponse(payload: unknown) {
  return {
    ExecutedVersion: "$LATEST",
    Payload: payload ?? null,
    SdkHttpMetadata: { HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: randomUUID() },
    StatusCode: 200,
  };
}

/** A handler's error as Step Functions sees it: its type is the error name, the Lambda error JSON the cause. */
function functionError(error: unknown): Error {
  const thrown = error instanceof Error ? error : new Error(String(error));
  const cause = JSON.stringify({
    errorType: thrown.name,
    errorMessage: thrown.message,
    trace: thrown.stack?.split("\n") ?? [],
  });
  return Object.assign(new Error(cause), { name: thrown.name });
}

/**
 * The ASL's own seconds times `scale`, else the seconds its path selected as they are (a positive
 * integer, as AWS requires).
 */
function millisecondsOf(literal: number | undefined, fromPath: unknown, field: string, scale: number): number {
  if (literal !== undefined) return literal * scale * 1000;
  if (typeof fromPath === "number" && Number.isInteger(fromPath) && fromPath > 0) return fromPath * 1000;
  throw runtimeError(`${field} must select a positive integer, not ${JSON.stringify(fromPath)}`);
}

function nonNegativeInteger(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  throw runtimeError(`${field} must select a non-negative integer, not ${JSON.stringify(value)}`);
}

function timestampOf(value: unknown): number {
  const time = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time))
    throw runtimeError(`a Wait's timestamp must be an ISO 8601 time, not ${JSON.stringify(value)}`);
  return time;
}

/** States.Runtime fails the execution: no Retry or Catch takes it, as on AWS. */
function runtimeError(message: string): Error {
  return Object.assign(new Error(message), { name: "States.Runtime", isRetryable: false, isCatchable: false });
}

/**
 * `States.TaskFailed` in a Retry or Catch must not match a timeout: the library tells its own
 * timeout error by class, which it does not export. One 1 ms run of a Task that never ends gives
 * it; each timeout here is an instance, named `States.Timeout` or `States.HeartbeatTimeout`.
 */
async function statesTimeoutErrors(): Promise<(name: "States.Timeout" | "States.HeartbeatTimeout") => Error> {
  const probe = new StateMachine(
    { StartAt: "Probe", States: { Probe: { Type: "Task", Resource: "probe", TimeoutSeconds: 0.001, End: true } } },
    { validationOptions: { noValidate: true } },
  );
  const { result } = probe.run(
    {},
    { overrides: { taskResourceLocalHandlers: { Probe: () => new Promise(() => undefined) } } },
  );
  const timeout = await result.then(
    () => undefined,
    (error: unknown) => (error as { cause?: unknown }).cause,
  );
  if (!(timeout instanceof Error) || timeout.name !== "States.Timeout") {
    throw new Error("aws-local-stepfunctions no longer times a Task out as expected: see workflow-runner.ts");
  }
  const TimeoutError = timeout.constructor as new () => Error;
  return (name) => Object.assign(new TimeoutError(), { name, message: name });
}

/** setTimeout for any delay (it fires at once past 2^31 - 1 ms), never keeping the process alive. */
function after(ms: number, fire: () => void): () => void {
  const maxDelay = 2 ** 31 - 1;
  let timer: NodeJS.Timeout;
  const schedule = (remaining: number) => {
    timer = setTimeout(
      () => (remaining > maxDelay ? schedule(remaining - maxDelay) : fire()),
      Math.min(remaining, maxDelay),
    );
    timer.unref();
  };
  schedule(ms);
  return () => clearTimeout(timer);
}

function onAbort(execution: Execution, listener: () => void): () => void {
  const { signal } = execution.abort;
  if (signal.aborted) {
    listener();
    return () => undefined;
  }
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}
