import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import { localAccountId, localRegion } from "./development.ts";

export const projectRoot = resolve(import.meta.dirname, "../../..");

// biome-ignore lint/suspicious/noExplicitAny: handlers of every event type pass through here.
export type LambdaHandler = (event: any, context: Context) => Promise<any>;

/** Imports a handler by its SST path (`functions/leads/get.handler`), as a cold start would. */
export async function loadHandler(handlerPath: string): Promise<LambdaHandler> {
  const dot = handlerPath.lastIndexOf(".");
  const file = resolve(projectRoot, `${handlerPath.slice(0, dot)}.ts`);
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = module[handlerPath.slice(dot + 1)];
  if (typeof handler !== "function") throw new Error(`${handlerPath} does not export a handler function`);
  return handler as LambdaHandler;
}

export function functionNameOf(handlerPath: string): string {
  return handlerPath
    .replace(/\.[^.]+$/, "")
    .replace(/^functions\//, "")
    .replaceAll("/", "-");
}

/** The Lambda context object handed to every local invocation. */
export function lambdaContext(functionName: string, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    awsRequestId: randomUUID(),
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${localRegion}:${localAccountId}:function:${functionName}`,
    memoryLimitInMB: "1024",
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
