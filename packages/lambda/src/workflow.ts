import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { z } from "zod";
import { logger } from "./logger.ts";

/**
 * A workflow task's handler: Step Functions hands it the Task's `Payload`, parsed here with the
 * task's schema (a mismatch is our own ASL's fault: the task fails and the state's Retry/Catch
 * decide), and gets back what the state machine reads as `$.Payload`.
 */
export function workflowTask<Schema extends z.ZodType, Result>(
  schema: Schema,
  task: (input: z.output<Schema>) => Promise<Result>,
) {
  return middy<unknown, Result>()
    .use(injectLambdaContext(logger))
    .handler((event) => task(schema.parse(event)));
}
