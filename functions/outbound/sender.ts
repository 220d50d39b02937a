import { OutboundMessageSchema } from "@leadflow/channels";
import { logger, queueConsumer, sendOnce } from "@leadflow/lambda";

/** Outbound queue -> SES (email) or End User Messaging (SMS), each message id sent once. */
export const handler = queueConsumer({
  schema: OutboundMessageSchema,
  async handle(message) {
    const outcome = await sendOnce(message);
    // Ids and labels only: never the address, the number or the text.
    const { id, channel, purpose, leadId } = message;
    logger.info("Outbound message", { messageId: id, channel, purpose, leadId, outcome: outcome.status });
    if (outcome.status === "sent" && !outcome.recorded)
      logger.warn("Sent, but not marked sent: a redelivery after the lease would send it again", { messageId: id });
  },
});
