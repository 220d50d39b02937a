import { refreshTemperatures } from "@leadflow/core";
import { leadStore, logger, scoringDependencies } from "@leadflow/lambda";

const dependencies = scoringDependencies();

/** Daily: leads due in the cooling index are scored again, so unengaged leads turn cold on time. */
export const handler = async () => {
  const result = await refreshTemperatures(dependencies, leadStore().leadsCoolingBy(dependencies.now()));
  logger.info("Temperatures refreshed", { ...result });
  return result;
};
