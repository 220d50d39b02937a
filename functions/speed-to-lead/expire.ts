import { expire } from "@leadflow/core";
import { speedToLeadDependencies, workflowTask } from "@leadflow/lambda";
import { z } from "zod";

const Input = z.object({ token: z.string() });

/** Workflow task: no answer in time: the alert's link is gone; the next tier follows. */
export const handler = workflowTask(Input, (input) => expire(speedToLeadDependencies(), input));
