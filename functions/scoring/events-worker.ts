import { EventsMessageSchema, recordEvents } from "@leadflow/core";
import { logger, queueConsumer, scoringDependencies } from "@leadflow/lambda";

/** Events queue -> the lead's history and score, each client event id counted once. */
export const handler = queueConsumer({
  schema: EventsMessageSchema,
  async handle({ leadId, events }) {
    const { applied, duplicates } = await recordEvents(scoringDependencies(), leadId, events);
    logger.info("Events recorded", { leadId, applied, duplicates });
  },
});
