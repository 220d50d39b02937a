import { randomUUID } from "node:crypto";
import { CaptureMessageSchema, leadLoader, metaGraphClient } from "@leadflow/channels";
import { ingestCapture } from "@leadflow/core";
import { leadStore, loadSecrets, logger, queueConsumer, scoringDependencies, setting, sources } from "@leadflow/lambda";

const { META_PAGE_ACCESS_TOKEN } = await loadSecrets(["META_PAGE_ACCESS_TOKEN"]);
const graph = metaGraphClient({ baseUrl: setting("META_GRAPH_URL"), accessToken: META_PAGE_ACCESS_TOKEN });

/** Capture queue -> the single table, exactly once per platform delivery, scored as it lands. */
export const handler = queueConsumer({
  schema: CaptureMessageSchema,
  async handle(message) {
    const dependencies = { ...scoringDependencies(), repository: leadStore(), newLeadId: randomUUID };
    const { leadId, outcome } = await ingestCapture(
      dependencies,
      message.receipt,
      leadLoader(message, sources(), graph),
    );
    logger.info("Lead captured", { leadId, outcome, source: message.receipt.source });
  },
});
