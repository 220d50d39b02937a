import { enrolColdLeads } from "@leadflow/core";
import { logger, nurtureDependencies, scheduledHandler } from "@leadflow/lambda";

/** Hourly: leads gone cold since the last look are enrolled in the sequences whose entry they match. */
export const handler = scheduledHandler(async () => {
  const result = await enrolColdLeads(nurtureDependencies());
  if (result.considered > 0) logger.info("Nurture enrolment", { ...result });
  else logger.debug("No lead crossed a sequence's entry since the last look");
  return result;
});
