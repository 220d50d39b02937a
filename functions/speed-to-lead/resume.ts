import { resumeStep } from "@leadflow/core";
import { logger, routingStore, speedToLeadDependencies, startSpeedToLead, workflowTask } from "@leadflow/lambda";
import { z } from "zod";

const Input = z.object({ workflow: z.string() });

/**
 * `npm start` only (executions live in memory there): starts again, where each stood, the
 * escalations that were running when it stopped.
 */
export const handler = workflowTask(Input, async () => {
  const dependencies = speedToLeadDependencies();
  const running = await routingStore().runningEscalations();
  let resumed = 0;
  for (const escalation of running) {
    const step = await resumeStep(dependencies, escalation);
    if (!step) continue;
    const { leadId, escalationId } = escalation;
    await startSpeedToLead(`${escalationId}-resumed-${Date.now()}`, { leadId, escalationId, resume: step });
    resumed++;
  }
  logger.info("Escalations resumed", { running: running.length, resumed });
  return { resumed };
});
