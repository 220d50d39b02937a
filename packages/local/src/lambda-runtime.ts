import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import { localAccountId, localRegion } from "./development.ts";

export const projectRoot = resolve(import.meta.dirname, "../../..");

// biome-ignore lint/suspicious/noExplicitAny: handlers of every event type pass through here.
export type LambdaHandler = (event: any, context: Context) => Promise<any>;

/**
 * Imports a handler by its SST path (`functions/leads/get.handler`), as a cold start would. With
 * `instance`, the handler's file is a module of its own for that name, as each Lambda function
 * loads its own copy: two manifest entries on one file do not share its top-level state.
 */
export async function loadHandler(handlerPath: string, instance?: string): Promise<LambdaHandler> {
  const dot = handlerPath.lastIndexOf(".");
  const url = pathToFileURL(resolve(projectRoot, `${handlerPath.slice(0, dot)}.ts`));
  if (instance) url.searchParams.set("function", instance);
  const module = (await import(url.href)) as Record<string, unknown>;
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
