import { DeliverabilityMessageSchema, EventsMessageSchema, handleSesEvent } from "@leadflow/core";
import {
  clock,
  leadStore,
  logger,
  nurtureDependencies,
  queueConsumer,
  queueSender,
  requiredSetting,
} from "@leadflow/lambda";
import { environmentNames } from "@leadflow/manifest";

const sendEvents = queueSender(requiredSetting(environmentNames.queueUrl("events")), EventsMessageSchema);

/**
 * The deliverability queue (SES event publishing via SNS): hard bounces and complaints suppress
 * the address and end the lead's sequences; opens and clicks go to scoring as lead events.
 */
export const handler = queueConsumer({
  schema: DeliverabilityMessageSchema,
  async handle(event) {
    const { store, sequences } = nurtureDependencies();
    const outcome = await handleSesEvent(
      {
        store,
        sequences,
        now: clock.now,
        findLeadIdByEmail: (email) => leadStore().findLeadIdByEmail(email),
        sendEvents: (message) => sendEvents([message]),
      },
      event,
    );
    // Lead and message ids only: never the address.
    logger.info("SES event", { sesMessageId: event.mail.messageId, ...outcome });
  },
});
