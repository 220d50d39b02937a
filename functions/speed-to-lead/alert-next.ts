import { alertNext } from "@leadflow/core";
import { speedToLeadDependencies, workflowTask } from "@leadflow/lambda";
import { z } from "zod";

const Input = z.object({ leadId: z.string(), escalationId: z.string(), tier: z.number().int().min(1) });

/** Workflow task: alerts the next person for the lead (this tier), by email and SMS. */
export const handler = workflowTask(Input, (input) => alertNext(speedToLeadDependencies(), input));
