import { CaptureMessageSchema, createInbound, defaultSigningSecret, sourceSecretNames } from "@leadflow/channels";
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

const secrets = await loadSecrets([defaultSigningSecret, "META_APP_SECRET", "GOOGLE_ADS_WEBHOOK_KEY"]);
/** Rebuilt when the config changes: form sources may name signing secrets of their own. */
const inbound = perConfig(async () => {
  const named = await loadSecrets(sourceSecretNames(sources()));
  const signing = { ...named, [defaultSigningSecret]: secrets[defaultSigningSecret] };
  return createInbound({
    sources: sources(),
    secrets: {
      formSigningSecrets: Object.fromEntries(Object.entries(signing).map(([name, value]) => [name, secretList(value)])),
      metaAppSecret: secrets.META_APP_SECRET,
      googleAdsWebhookKeys: secretList(secrets.GOOGLE_ADS_WEBHOOK_KEY),
    },
  });
});
const enqueue = queueSender(requiredSetting(environmentNames.queueUrl("capture")), CaptureMessageSchema);
const Path = z.object({ source: z.string() });

/** POST /webhooks/{source}: verify, validate, enqueue — and only then acknowledge. */
export const handler = httpHandler(async (event) => {
  const { source } = parseInput(Path, event.pathParameters, "path");
  const request = { headers: event.headers, query: event.queryStringParameters ?? {}, body: rawBody(event) };
  const acceptance = (await inbound()).receive(source, request);
  await enqueue(acceptance.messages);
  if (acceptance.refused) logger.warn("Part of a delivery refused", { source, refused: acceptance.refused });
  return json(acceptance.status, acceptance.body);
});
