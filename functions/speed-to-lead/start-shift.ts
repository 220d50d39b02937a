import { startShift } from "@leadflow/core";
import { speedToLeadDependencies, workflowTask } from "@leadflow/lambda";
import { z } from "zod";

const Input = z.object({ leadId: z.string(), token: z.string() });

/** Workflow task: a held alert's rep starts their shift: the SMS, and the accept time, start now. */
export const handler = workflowTask(Input, (input) => startShift(speedToLeadDependencies(), input));
