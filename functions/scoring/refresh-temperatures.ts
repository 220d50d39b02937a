import { refreshTemperatures } from "@leadflow/core";
import { leadStore, logger, scheduledHandler, scoringDependencies } from "@leadflow/lambda";

/** Daily: leads due in the cooling index are scored again, so unengaged leads turn cold on time. */
export const handler = scheduledHandler(async () => {
  const dependencies = scoringDependencies();
  const result = await refreshTemperatures(dependencies, leadStore().leadsCoolingBy(dependencies.now()));
  logger.info("Temperatures refreshed", { ...result });
  return result;
});
