import { remind } from "@leadflow/core";
import { speedToLeadDependencies, workflowTask } from "@leadflow/lambda";
import { z } from "zod";

const Input = z.object({ token: z.string() });

/** Workflow task: the person alerted has not answered half-way through: a reminder. */
export const handler = workflowTask(Input, (input) => remind(speedToLeadDependencies(), input));
