import { randomUUID } from "node:crypto";
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidExecutionInput,
  InvalidToken,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  TaskTimedOut,
} from "@aws-sdk/client-sfn";
import { type LocalStepFunctions, startStepFunctions, workflowFastTimeScale } from "@leadflow/local";
import type { FunctionDefinition } from "@leadflow/manifest";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { LambdaHandler } from "../../packages/local/src/lambda-runtime.ts";
import * as clients from "../fixtures/workflows/clients.ts";
import * as handlers from "../fixtures/workflows/handlers.ts";
import { type FixtureInput, invocations, type Plan } from "../fixtures/workflows/handlers.ts";
import { fixtureWorkflows } from "../fixtures/workflows/manifest.ts";
import { waitFor } from "../helpers/wait.ts";

/**
 * The local Step Functions endpoint, as handlers reach it (@aws-sdk/client-sfn), running the
 * fixture workflows with their task handlers: once at real time scale, once as `--fast` runs it.
 */

const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const region = "us-east-1";

let realTime: LocalStepFunctions;
let fast: LocalStepFunctions;
let sfn: SFNClient;
let fastSfn: SFNClient;

/** Loads the fixture's handlers by their manifest path, as the stack imports them. */
async function loadFixtureHandler(_name: string, definition: FunctionDefinition<string>): Promise<LambdaHandler> {
  const modules: Record<string, Record<string, unknown>> = {
    "tests/fixtures/workflows/handlers": handlers,
    "tests/fixtures/workflows/clients": clients,
  };
  const dot = definition.handler.lastIndexOf(".");
  const handler = modules[definition.handler.slice(0, dot)]?.[definition.handler.slice(dot + 1)];
  if (typeof handler !== "function") throw new Error(`No fixture handler ${definition.handler}`);
  return handler as LambdaHandler;
}

beforeAll(async () => {
  realTime = await startStepFunctions({ workflows: fixtureWorkflows, timeScale: 1 });
  fast = await startStepFunctions({ workflows: fixtureWorkflows, timeScale: workflowFastTimeScale });
  await realTime.load(loadFixtureHandler);
  await fast.load(loadFixtureHandler);
  // What npm start gives a handler that starts and answers test-workflow (the client factory reads it).
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SFN: realTime.endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    TEST_WORKFLOW_WORKFLOW_ARN: realTime.workflowArns["test-workflow"],
  });
  sfn = new SFNClient({ endpoint: realTime.endpoint, region, credentials });
  fastSfn = new SFNClient({ endpoint: fast.endpoint, region, credentials });
});

afterAll(async () => {
  await realTime?.stop();
  await fast?.stop();
});

const plan = (overrides: Partial<Plan> = {}): Plan => ({
  pause: false,
  answerWithinSeconds: 60,
  heartbeatSeconds: 60,
  ...overrides,
});

function input(overrides: Partial<Plan> = {}, extra: Partial<FixtureInput> = {}): FixtureInput {
  return { leadId: randomUUID(), plan: plan(overrides), ...extra };
}

/** Starts test-workflow the way a handler does (fixtures/workflows/clients.ts). */
async function startFor(fixtureInput: FixtureInput): Promise<string> {
  const started = await clients.start({ leadId: fixtureInput.leadId, input: fixtureInput });
  if (!started.started || !started.executionArn) throw new Error("not started");
  return started.executionArn;
}

/** The event a task of the lead's execution was invoked with, once it was. */
async function invocationOf(task: string, leadId: string | undefined, timeoutMs = 10_000) {
  let found: Record<string, unknown> | undefined;
  await waitFor(
    async () => {
      found = invocations.find((call) => call.task === task && (!leadId || call.event.leadId === leadId))?.event;
      return found !== undefined;
    },
    timeoutMs,
    `${task} for ${leadId}`,
  );
  return found as Record<string, unknown>;
}

async function tokenFor(leadId: string, timeoutMs?: number): Promise<string> {
  return (await invocationOf("AwaitAnswer", leadId, timeoutMs)).taskToken as string;
}

async function finished(
  executionArn: string,
  client = sfn,
  timeoutMs = 20_000,
): Promise<DescribeExecutionCommandOutput & { result: Record<string, unknown> }> {
  let description: DescribeExecutionCommandOutput | undefined;
  await waitFor(
    async () => {
      description = await client.send(new DescribeExecutionCommand({ executionArn }));
      return description.status !== "RUNNING";
    },
    timeoutMs,
    `execution ${executionArn} to finish`,
  );
  const done = description as DescribeExecutionCommandOutput;
  return { ...done, result: JSON.parse(done.output ?? "null") };
}

async function status(executionArn: string, client = sfn) {
  return (await client.send(new DescribeExecutionCommand({ executionArn }))).status;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the callback pattern (.waitForTaskToken)", () => {
  test("the task's handler gets a fresh token; SendTaskSuccess ends the task with its output, and the token is then spent", async () => {
    const first = input();
    const second = input();
    const executionArn = await startFor(first);
    await startFor(second);

    expect((await invocationOf("Prepare", first.leadId)).plan).toEqual(first.plan);
    const token = await tokenFor(first.leadId);
    const otherToken = await tokenFor(second.leadId);
    expect(token).toMatch(/^AQ[A-Za-z0-9_-]{128}$/);
    expect(otherToken).not.toBe(token);
    expect(await status(executionArn)).toBe("RUNNING");

    await clients.answer({ taskToken: token, answer: { action: "accept", rep: "ana" } });
    const done = await finished(executionArn);
    expect(done.status).toBe("SUCCEEDED");
    expect(done.result).toEqual({ outcome: "answered", answer: { action: "accept", rep: "ana" } });
    expect(done.stopDate).toBeInstanceOf(Date);

    await expect(clients.answer({ taskToken: token, answer: {} })).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }))).rejects.toBeInstanceOf(TaskTimedOut);
    expect(await status(await startFor(input()))).toBe("RUNNING");
  });

  test("no answer: the task fails with States.Timeout at its TimeoutSecondsPath, and the Catch on States.Timeout runs (not the one on States.TaskFailed)", async () => {
    const lead = input({ answerWithinSeconds: 1 });
    const executionArn = await startFor(lead);
    const token = await tokenFor(lead.leadId);

    const done = await finished(executionArn);
    expect(done.status).toBe("SUCCEEDED");
    expect(done.result).toMatchObject({ outcome: "timed-out", failure: { Error: "States.Timeout" } });
    expect((await invocationOf("Expire", lead.leadId)).leadId).toBe(lead.leadId);
    await expect(clients.answer({ taskToken: token, answer: {} })).rejects.toBeInstanceOf(TaskTimedOut);
  });

  test("SendTaskFailure fails the task with its error and cause, and a Catch takes it", async () => {
    const lead = input();
    const executionArn = await startFor(lead);
    await clients.answer({ taskToken: await tokenFor(lead.leadId), error: "Declined", cause: "busy all day" });

    const done = await finished(executionArn);
    expect(done.result).toEqual({ outcome: "declined", failure: { Error: "Declined", Cause: "busy all day" } });
  });

  test("heartbeats keep the task waiting past HeartbeatSeconds; once they stop it fails with States.HeartbeatTimeout, which a Catch on States.Timeout takes", async () => {
    const lead = input({ heartbeatSeconds: 2 });
    const executionArn = await startFor(lead);
    const token = await tokenFor(lead.leadId);

    const heartbeatsUntil = Date.now() + 3_000;
    while (Date.now() < heartbeatsUntil) {
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
      await sleep(250);
    }
    expect(await status(executionArn)).toBe("RUNNING");

    const done = await finished(executionArn);
    expect(done.result).toMatchObject({ outcome: "timed-out", failure: { Error: "States.HeartbeatTimeout" } });
  });
});

describe("Task states", () => {
  test("a handler's error fails the task with the error's name, and Retry runs it again", async () => {
    const lead = input({}, { flakyAttempts: 1 });
    const executionArn = await startFor(lead);
    await clients.answer({ taskToken: await tokenFor(lead.leadId), answer: { action: "accept" } });

    expect((await finished(executionArn)).status).toBe("SUCCEEDED");
    expect(invocations.filter((call) => call.task === "Prepare" && call.event.leadId === lead.leadId)).toHaveLength(2);
  });
});

describe("StartExecution and DescribeExecution", () => {
  const arn = () => realTime.workflowArns["test-workflow"] as string;

  test("a name is one execution: the same input while it runs is the same start; another input, or after it ended, ExecutionAlreadyExists", async () => {
    const lead = input();
    const name = `lead-${lead.leadId}`;
    const start = (body: unknown) =>
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn(), name, input: JSON.stringify(body) }));

    const first = await start(lead);
    const again = await start(lead);
    expect(again.executionArn).toBe(first.executionArn);
    expect(first.executionArn).toBe(`${arn().replace(":stateMachine:", ":execution:")}:${name}`);
    await expect(start({ ...lead, plan: plan({ heartbeatSeconds: 30 }) })).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
    expect(await clients.start({ leadId: lead.leadId, input: { other: true } })).toEqual({ started: false });

    await clients.answer({ taskToken: await tokenFor(lead.leadId), answer: {} });
    await finished(first.executionArn as string);
    await expect(start(lead)).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  test("DescribeExecution tells the name, input, status and dates", async () => {
    const lead = input();
    const executionArn = await startFor(lead);
    const running = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(running).toMatchObject({
      executionArn,
      stateMachineArn: arn(),
      name: `lead-${lead.leadId}`,
      status: "RUNNING",
      input: JSON.stringify(lead),
    });
    expect(running.startDate).toBeInstanceOf(Date);
    expect(running.output).toBeUndefined();
  });

  test("AWS's errors: unknown state machine, execution or token; input that is not JSON", async () => {
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: `${arn()}-nope`, input: "{}" })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn(), input: "{not json" })),
    ).rejects.toBeInstanceOf(InvalidExecutionInput);
    await expect(
      sfn.send(
        new DescribeExecutionCommand({ executionArn: `${arn().replace(":stateMachine:", ":execution:")}:nope` }),
      ),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: "not-a-token", output: "{}" })),
    ).rejects.toBeInstanceOf(InvalidToken);
  });
});

describe("restarts", () => {
  test("a workflow's localResume handler is called with its workflow and state machine, and may start it", async () => {
    const leadId = randomUUID();
    process.env.RESUME_LEAD_ID = leadId;
    await realTime.resume(loadFixtureHandler);

    const executionArn = `${realTime.workflowArns["test-workflow"]?.replace(":stateMachine:", ":execution:")}:lead-${leadId}`;
    const resumed = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(resumed.status).toBe("RUNNING");
    expect(JSON.parse(resumed.input ?? "{}").resumedBy).toEqual({
      workflow: "test-workflow",
      stateMachineArn: realTime.workflowArns["test-workflow"],
    });
  });
});

describe("--fast", () => {
  test("a 3-minute Wait written in the ASL takes 3 s; a wait the input sets (TimeoutSecondsPath) is kept as it is", async () => {
    const arn = fast.workflowArns["test-workflow"] as string;
    const lead = input({ pause: true, answerWithinSeconds: 60 });
    const { executionArn } = await fastSfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: lead.leadId, input: JSON.stringify(lead) }),
    );
    const token = await tokenFor(lead.leadId, 30_000);
    // Scaled, the 60 s would be 1 s, and the task would time out before this answer.
    await sleep(1_500);
    await fastSfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ action: "accept" }) }));

    expect((await finished(executionArn as string, fastSfn)).result).toMatchObject({ outcome: "answered" });
  });

  test("a .waitForTaskToken Task's TimeoutSeconds of 5 minutes times it out after 5 s", async () => {
    const { executionArn } = await fastSfn.send(
      new StartExecutionCommand({ stateMachineArn: fast.workflowArns["quick-reply"], input: "{}" }),
    );
    const done = await finished(executionArn as string, fastSfn, 30_000);
    expect(done.result).toEqual({ outcome: "timed-out" });
  });
});
