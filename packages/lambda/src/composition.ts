import { loadSources } from "@leadflow/channels";
import { loadScoring, type ScoringDependencies, type SignalPublisher } from "@leadflow/core";
import { environmentNames } from "@leadflow/manifest";
import { createLeadStore } from "@leadflow/store";
import { clients } from "./clients.ts";
import { once } from "./once.ts";
import { requiredSetting, setting } from "./settings.ts";
import { queueSender } from "./sqs.ts";

/** Shared building blocks, built on first use and kept for the life of the process. */
export const leadStore = once(() =>
  createLeadStore({ client: clients.dynamodb(), tableName: requiredSetting(environmentNames.tableName) }),
);

export const sources = once(() => loadSources(setting("LEADFLOW_CONFIG_DIR")));

export const scoringModel = once(() => loadScoring(setting("LEADFLOW_CONFIG_DIR")));

/** Signals (a lead turned hot or marketing-qualified) go to the `qualified` queue. */
export const signalPublisher = once((): SignalPublisher => {
  const send = queueSender(requiredSetting(environmentNames.queueUrl("qualified")));
  return { publish: (signals) => send(signals) };
});

/** What scoring a lead needs: the table, the config, the signal queue and a clock. */
export const scoringDependencies = once(
  (): ScoringDependencies => ({
    repository: leadStore(),
    publisher: signalPublisher(),
    model: scoringModel(),
    now: () => new Date().toISOString(),
  }),
);
