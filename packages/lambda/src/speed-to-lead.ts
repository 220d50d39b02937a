import {
  ExecutionAlreadyExists,
  InvalidToken,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from "@aws-sdk/client-sfn";
import type { AlertStep, SpeedToLeadDependencies, WorkflowTasks } from "@leadflow/core";
import { clock } from "@leadflow/core";
import { environmentNames } from "@leadflow/manifest";
import { createRoutingStore } from "@leadflow/store";
import { clients } from "./clients.ts";
import { config, eventPublisher, leadStore, scoringModel } from "./composition.ts";
import { logger } from "./logger.ts";
import { once, perConfig } from "./once.ts";
import { outboundSender, publicUrl } from "./outbound.ts";
import { requiredSetting, setting } from "./settings.ts";

/** Escalations, alerts, cursors and daily counts, beside the lead store in the one table. */
export const routingStore = once(() => {
  const store = createRoutingStore({
    client: clients.dynamodb(),
    tableName: requiredSetting(environmentNames.tableName),
  });
  return { ...store, recordHistory: leadStore().recordHistory };
});

/** Answers a workflow task; one already answered (a second accept, a time-out first) is left be. */
export const workflowTasks = once(
  (): WorkflowTasks => ({
    async succeed(taskToken, output) {
      try {
        await clients.sfn().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
      } catch (error) {
        if (error instanceof TaskTimedOut || error instanceof TaskDoesNotExist || error instanceof InvalidToken) {
          logger.info("The workflow task was already answered", { reason: (error as Error).name });
          return;
        }
        throw error;
      }
    },
  }),
);

/**
 * What the speed-to-lead steps need. Each part is built when first used, so a handler touches
 * only what its manifest entry gives it (the page route sends nothing, the expiry no link).
 */
export const speedToLeadDependencies = perConfig((): SpeedToLeadDependencies => {
  const routing = config().routing;
  return {
    get repository() {
      return leadStore();
    },
    publisher: { publish: (events) => eventPublisher().publish(events) },
    get store() {
      return routingStore();
    },
    routing,
    get scoring() {
      return scoringModel();
    },
    send: (messages) => outboundSender()(messages),
    get tasks() {
      return workflowTasks();
    },
    from: routing.from,
    linkFor: async (token) => `${await publicUrl()}/alerts/${token}`,
    now: clock.now,
    get timeScale() {
      return Number(setting("WORKFLOW_TIME_SCALE"));
    },
  };
});

/** Starts the lead's escalation workflow; a start repeated with the same name and input is harmless. */
export async function startSpeedToLead(
  name: string,
  input: { leadId: string; escalationId: string; resume?: AlertStep },
): Promise<void> {
  try {
    await clients.sfn().send(
      new StartExecutionCommand({
        stateMachineArn: requiredSetting(environmentNames.workflowArn("speed-to-lead")),
        name,
        input: JSON.stringify(input),
      }),
    );
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
  }
}
