import { answerHandshake } from "@leadflow/channels";
import { httpHandler, loadSecrets, parseInput, sources, text } from "@leadflow/lambda";
import { z } from "zod";

const { META_VERIFY_TOKEN } = await loadSecrets(["META_VERIFY_TOKEN"]);
const Path = z.object({ source: z.string() });

/** GET /webhooks/{source}: Meta's subscription handshake (echoes hub.challenge). */
export const handler = httpHandler(async (event) => {
  const { source } = parseInput(Path, event.pathParameters, "path");
  const query = event.queryStringParameters ?? {};
  return text(200, answerHandshake(sources(), source, { query }, META_VERIFY_TOKEN));
});
