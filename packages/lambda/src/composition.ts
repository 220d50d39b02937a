import { loadConfig } from "@leadflow/config";
import { LeadSignalSchema, type ScoringDependencies, type SignalPublisher } from "@leadflow/core";
import { environmentNames } from "@leadflow/manifest";
import { createLeadStore } from "@leadflow/store";
import { clients } from "./clients.ts";
import { once, perConfig } from "./once.ts";
import { requiredSetting, setting } from "./settings.ts";
import { queueSender } from "./sqs.ts";

/** Shared building blocks, built on first use and kept for the life of the process (or the config). */
export const leadStore = once(() =>
  createLeadStore({ client: clients.dynamodb(), tableName: requiredSetting(environmentNames.tableName) }),
);

/**
 * The marketer config, compiled: one key per entry of the registry in @leadflow/config
 * (`config().sources`, `config().scoring`), each read and compiled on first use. Built again when
 * `npm start` points LEADFLOW_CONFIG_DIR at a newer checked copy.
 */
export const config = perConfig(() => loadConfig(setting("LEADFLOW_CONFIG_DIR")));

export const sources = () => config().sources;

export const scoringModel = () => config().scoring;

/** Signals (a lead turned hot or marketing-qualified) go to the `qualified` queue. */
export const signalPublisher = once((): SignalPublisher => {
  const send = queueSender(requiredSetting(environmentNames.queueUrl("qualified")), LeadSignalSchema);
  return { publish: (signals) => send(signals) };
});

/** What scoring a lead needs: the table, the config, the signal queue and a clock. */
export const scoringDependencies = perConfig(
  (): ScoringDependencies => ({
    repository: leadStore(),
    publisher: signalPublisher(),
    model: scoringModel(),
    now: () => new Date().toISOString(),
  }),
);
