import { awaitAnswer } from "@leadflow/core";
import { speedToLeadDependencies, workflowTask } from "@leadflow/lambda";
import { z } from "zod";

const Input = z.object({ token: z.string(), taskToken: z.string() });

/** Workflow task (`.waitForTaskToken`): keeps the task token on the alert for the answer to use. */
export const handler = workflowTask(Input, (input) => awaitAnswer(speedToLeadDependencies(), input));
