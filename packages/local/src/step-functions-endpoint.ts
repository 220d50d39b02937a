/**
 * The Step Functions API on 127.0.0.1, as `@aws-sdk/client-sfn` calls it (AWS JSON 1.0: a POST to
 * `/` with `X-Amz-Target: AWSStepFunctions.<Action>`), for the actions handlers use:
 * StartExecution, DescribeExecution, SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat.
 * Errors are AWS's: status 400 and `{ "__type", "message" }`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { localHosts } from "./gateway.ts";
import { type ExecutionDescription, StepFunctionsError, type WorkflowRunner } from "./workflow-runner.ts";

const targetPrefix = "AWSStepFunctions.";
const contentType = "application/x-amz-json-1.0";
/** Far above Step Functions' 256 KB payloads: a bigger body is refused unread. */
const maxBodyBytes = 1024 * 1024;

/** The request shapes and limits of the Step Functions API reference. */
const token = z.string().min(1).max(1024);
const requests = {
  StartExecution: z.object({
    stateMachineArn: z.string().min(1).max(256),
    name: z.string().optional(),
    input: z.string().optional(),
    traceHeader: z.string().max(256).optional(),
  }),
  DescribeExecution: z.object({ executionArn: z.string().min(1).max(256) }),
  SendTaskSuccess: z.object({ taskToken: token, output: z.string() }),
  SendTaskFailure: z.object({
    taskToken: token,
    error: z.string().max(256).optional(),
    cause: z.string().max(32768).optional(),
  }),
  SendTaskHeartbeat: z.object({ taskToken: token }),
};
type Action = keyof typeof requests;

export interface StepFunctionsEndpoint {
  /** For `AWS_ENDPOINT_URL_SFN`. */
  url: string;
  close(): Promise<void>;
}

export async function startStepFunctionsEndpoint(runner: WorkflowRunner): Promise<StepFunctionsEndpoint> {
  let ownHosts: ReadonlySet<string> = new Set();
  const server = createServer((request, response) => {
    answer(runner, ownHosts, request, response).catch((error: unknown) => {
      console.error("Step Functions endpoint: request failed", error);
      if (!response.headersSent) send(response, 500, { __type: "InternalServerError", message: "Internal error" });
    });
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  // The same rule as the gateway: another site's page (DNS rebinding) names itself in Host.
  ownHosts = localHosts(port);
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(
  runner: WorkflowRunner,
  ownHosts: ReadonlySet<string>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (!ownHosts.has(request.headers.host?.toLowerCase() ?? "")) {
    return send(response, 403, {
      __type: "AccessDeniedException",
      message: "Only requests for 127.0.0.1 are answered",
    });
  }
  const target = String(request.headers["x-amz-target"] ?? "");
  const action = target.slice(targetPrefix.length);
  if (request.method !== "POST" || !target.startsWith(targetPrefix) || !(action in requests)) {
    request.resume();
    return error(response, "UnknownOperationException", `Not served locally: ${target || "no X-Amz-Target"}`);
  }
  const body = await readBody(request);
  if (body === undefined) return error(response, "ValidationException", "Request body over 1 MB");
  let json: unknown;
  try {
    json = JSON.parse(body || "{}");
  } catch {
    return error(response, "SerializationException", "The body is not JSON");
  }
  const parsed = requests[action as Action].safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    return error(response, "ValidationException", problems.join("; "));
  }
  try {
    send(response, 200, perform(runner, action as Action, parsed.data));
  } catch (caught) {
    if (!(caught instanceof StepFunctionsError)) throw caught;
    error(response, caught.code, caught.message);
  }
}

function perform(runner: WorkflowRunner, action: Action, request: Record<string, unknown>): unknown {
  switch (action) {
    case "StartExecution": {
      const started = runner.start(request as z.infer<typeof requests.StartExecution>);
      return { executionArn: started.executionArn, startDate: epochSeconds(started.startDate) };
    }
    case "DescribeExecution":
      return describe(runner.describe(request.executionArn as string));
    case "SendTaskSuccess":
      runner.sendTaskSuccess(request.taskToken as string, request.output as string);
      return {};
    case "SendTaskFailure":
      runner.sendTaskFailure(
        request.taskToken as string,
        request.error as string | undefined,
        request.cause as string | undefined,
      );
      return {};
    case "SendTaskHeartbeat":
      runner.sendTaskHeartbeat(request.taskToken as string);
      return {};
  }
}

/** Timestamps travel as epoch seconds in AWS JSON 1.0. */
function describe(execution: ExecutionDescription) {
  const { startDate, stopDate, output, ...rest } = execution;
  return {
    ...rest,
    startDate: epochSeconds(startDate),
    ...(stopDate ? { stopDate: epochSeconds(stopDate) } : {}),
    inputDetails: { included: true },
    ...(output === undefined ? {} : { output, outputDetails: { included: true } }),
  };
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) {
      request.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function error(response: ServerResponse, type: string, message: string): void {
  send(response, 400, { __type: type, message });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": contentType }).end(JSON.stringify(body));
}
