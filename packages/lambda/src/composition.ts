import { loadConfig } from "@leadflow/config";
import { clock, type DomainEventPublisher, DomainEventSchema, type ScoringDependencies } from "@leadflow/core";
import { environmentNames } from "@leadflow/manifest";
import { createLeadStore } from "@leadflow/store";
import { clients } from "./clients.ts";
import { once, perConfig } from "./once.ts";
import { requiredSetting, setting } from "./settings.ts";
import { topicPublisher } from "./sns.ts";

/** Shared building blocks, built on first use and kept for the life of the process (or the config). */
export const leadStore = once(() =>
  createLeadStore({
    client: clients.dynamodb(),
    tableName: requiredSetting(environmentNames.tableName),
    now: clock.nowIso,
  }),
);

/**
 * The marketer config, compiled: one key per entry of the registry in @leadflow/config
 * (`config().sources`, `config().scoring`), each read and compiled on first use. Built again when
 * `npm start` points LEADFLOW_CONFIG_DIR at a newer checked copy.
 */
export const config = perConfig(() => loadConfig(setting("LEADFLOW_CONFIG_DIR")));

export const sources = () => config().sources;

export const scoringModel = () => config().scoring;

/** Domain events go to the topic; each subscribed queue receives the types it asked for. */
export const eventPublisher = once((): DomainEventPublisher => {
  const publish = topicPublisher(requiredSetting(environmentNames.domainEventTopicArn), DomainEventSchema);
  return { publish };
});

/** The name the publisher had when scoring's signals were the only events. */
export const signalPublisher = eventPublisher;

/** What scoring a lead needs: the table, the config, the event topic and a clock. */
export const scoringDependencies = perConfig(
  (): ScoringDependencies => ({
    repository: leadStore(),
    publisher: eventPublisher(),
    model: scoringModel(),
    now: clock.nowIso,
  }),
);
