import { loadSources } from "@leadflow/channels";
import { environmentNames } from "@leadflow/manifest";
import { createLeadStore } from "@leadflow/store";
import { clients } from "./clients.ts";
import { once } from "./once.ts";
import { requiredSetting, setting } from "./settings.ts";

/** Shared building blocks, built on first use and kept for the life of the process. */
export const leadStore = once(() =>
  createLeadStore({ client: clients.dynamodb(), tableName: requiredSetting(environmentNames.tableName) }),
);

export const sources = once(() => loadSources(setting("LEADFLOW_CONFIG_DIR")));
