import { randomUUID } from "node:crypto";
import { CaptureMessageSchema, leadLoader, metaGraphClient, personKeyOf } from "@leadflow/channels";
import { ingestCapture } from "@leadflow/core";
import { leadStore, loadSecrets, logger, queueConsumer, scoringDependencies, setting, sources } from "@leadflow/lambda";

const { META_PAGE_ACCESS_TOKEN } = await loadSecrets(["META_PAGE_ACCESS_TOKEN"]);
const graph = metaGraphClient({ baseUrl: setting("META_GRAPH_URL"), accessToken: META_PAGE_ACCESS_TOKEN });

/** Capture queue -> the single table, exactly once per platform delivery, scored as it lands. */
export const handler = queueConsumer({
  schema: CaptureMessageSchema,
  sequenceKey: personKeyOf,
  async handle(message) {
    const dependencies = {
      ...scoringDependencies(),
      repository: leadStore(),
      newLeadId: randomUUID,
      alertsOnArrival: (source: string) => sources().get(source)?.alertOnArrival === true,
    };
    const { receipt } = message;
    const result = await ingestCapture(dependencies, receipt, leadLoader(message, sources(), graph));
    const ids = { leadId: result.leadId, source: receipt.source, platformLeadId: receipt.platformLeadId };
    if (result.contentChanged) logger.warn("Repeated delivery with different content; the first one is kept", ids);
    logger.info("Lead captured", { ...ids, outcome: result.outcome });
  },
});
