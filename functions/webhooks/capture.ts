import { createInbound } from "@leadflow/channels";
import {
  httpHandler,
  json,
  loadSecrets,
  logger,
  parseInput,
  perConfig,
  queueSender,
  rawBody,
  requiredSetting,
  secretList,
  sources,
} from "@leadflow/lambda";
import { environmentNames } from "@leadflow/manifest";
import { z } from "zod";

const secrets = await loadSecrets(["FORM_SIGNING_SECRET", "META_APP_SECRET", "GOOGLE_ADS_WEBHOOK_KEY"]);
const inbound = perConfig(() =>
  createInbound({
    sources: sources(),
    secrets: {
      formSigningSecrets: secretList(secrets.FORM_SIGNING_SECRET),
      metaAppSecret: secrets.META_APP_SECRET,
      googleAdsWebhookKey: secrets.GOOGLE_ADS_WEBHOOK_KEY,
    },
  }),
);
const enqueue = queueSender(requiredSetting(environmentNames.queueUrl("capture")));
const Path = z.object({ source: z.string() });

/** POST /webhooks/{source}: verify, validate, enqueue — and only then acknowledge. */
export const handler = httpHandler(async (event) => {
  const { source } = parseInput(Path, event.pathParameters, "path");
  const request = { headers: event.headers, query: event.queryStringParameters ?? {}, body: rawBody(event) };
  const acceptance = inbound().receive(source, request);
  await enqueue(acceptance.messages);
  if (acceptance.refused) logger.warn("Part of a delivery refused", { source, refused: acceptance.refused });
  return json(acceptance.status, acceptance.body);
});
