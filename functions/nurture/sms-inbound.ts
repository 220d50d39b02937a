import { EventsMessageSchema, handleSnsDelivery, parseJsonText, SnsHttpMessageSchema } from "@leadflow/core";
import {
  clock,
  httpHandler,
  json,
  leadStore,
  logger,
  nurtureDependencies,
  outboundSender,
  parseInput,
  queueSender,
  rawBody,
  requiredSetting,
} from "@leadflow/lambda";
import { environmentNames } from "@leadflow/manifest";

const sendEvents = queueSender(requiredSetting(environmentNames.queueUrl("events")), EventsMessageSchema);
/** Signatures are checked wherever this is not `npm start` (whose emulators sign nothing). */
const verifySignatures = process.env[environmentNames.runtime] !== "local";

/**
 * POST /webhooks/sms-inbound: End User Messaging's inbound SMS through an SNS HTTPS subscription
 * (topic and signature checked on AWS). STOP / START / HELP are answered; other texts are replies.
 */
export const handler = httpHandler(async (event) => {
  // SNS posts its JSON as text/plain: the content type is not checked, the JSON is.
  const message = parseInput(SnsHttpMessageSchema, parseJsonText(rawBody(event).toString("utf8")), "SNS message");
  const { store, sequences } = nurtureDependencies();
  const result = await handleSnsDelivery(
    {
      store,
      sequences,
      now: clock.now,
      findLeadIdByPhone: (phone) => leadStore().findLeadIdByPhone(phone),
      send: (messages) => outboundSender()(messages),
      sendEvents: (events) => sendEvents([events]),
    },
    message,
    { verifySignatures, expectedTopicArn: process.env.SMS_INBOUND_TOPIC_ARN || undefined, fetchText },
  );
  // Ids only: never the number or the text.
  logger.info("Inbound SMS", { snsMessageId: message.MessageId, type: result.type, ...flatten(result) });
  return json(200, { received: true });
});

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`SNS answered ${response.status}`);
  return response.text();
}

function flatten(result: Awaited<ReturnType<typeof handleSnsDelivery>>) {
  return "outcome" in result ? result.outcome : "confirmed" in result ? { confirmed: result.confirmed } : {};
}
