import { enrolColdLeads } from "@leadflow/core";
import { logger, nurtureDependencies, scheduledHandler } from "@leadflow/lambda";

/** Hourly: leads gone cold since the last look are enrolled in the sequences whose entry they match. */
export const handler = scheduledHandler(async () => {
  const result = await enrolColdLeads(nurtureDependencies());
  for (const failure of result.failed) logger.error("A lead could not be enrolled", { ...failure });
  if (result.considered > 0)
    logger.info("Nurture enrolment", { enrolled: result.enrolled, considered: result.considered });
  else logger.debug("No lead crossed a sequence's entry since the last look");
  return result;
});
