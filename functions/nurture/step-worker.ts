import { DueStepSchema, runDueStep } from "@leadflow/core";
import { logger, nurtureDependencies, queueConsumer } from "@leadflow/lambda";

/** The nurture queue: each due step run once (a copy, or a step queued twice, finds it moved on). */
export const handler = queueConsumer({
  schema: DueStepSchema,
  sequenceKey: (step) => step.leadId,
  async handle(step) {
    const result = await runDueStep(nurtureDependencies(), step);
    logger.info("Nurture step", {
      leadId: step.leadId,
      sequenceId: step.sequenceId,
      stepIndex: step.stepIndex,
      ...result,
    });
  },
});
