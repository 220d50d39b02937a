import type { SSTConfig } from "sst";
import { Alarms } from "./stacks/Alarms.ts";
import { Api } from "./stacks/Api.ts";
import { giveSstHandlersLogGroups } from "./stacks/functions.ts";
import { Messaging } from "./stacks/Messaging.ts";
import { suppressSstFindings } from "./stacks/nag.ts";
import { Schedules } from "./stacks/Schedules.ts";
import { Secrets } from "./stacks/Secrets.ts";
import { Storage } from "./stacks/Storage.ts";
import { Workflows } from "./stacks/Workflows.ts";

/** The AWS side of leadflow: what `npx sst deploy --stage <name>` creates (see docs/deploy.md). */
export default {
  config() {
    // `--region` on the command line overrides the default.
    return { name: "leadflow", region: "us-east-1" };
  },
  stacks(app) {
    app.setDefaultFunctionProps({
      runtime: "nodejs24.x",
      architecture: "arm_64",
      // Handlers use top-level await: ESM only.
      nodejs: { format: "esm", minify: true },
      // Handlers read the marketer-owned YAML at cold start (LEADFLOW_CONFIG_DIR, default `config`).
      copyFiles: [{ from: "config", to: "config" }],
    });
    // Workflows after Messaging: their task functions may send to its queues. Functions that start or
    // answer a workflow are granted its state machine by name, so Api and Schedules need no reference.
    app.stack(Storage).stack(Secrets).stack(Alarms).stack(Messaging).stack(Workflows).stack(Api).stack(Schedules);
    giveSstHandlersLogGroups(app);
    suppressSstFindings(app);
  },
} satisfies SSTConfig;
