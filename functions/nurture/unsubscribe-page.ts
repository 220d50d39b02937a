import { unsubscribePage, unsubscribeTarget } from "@leadflow/core";
import { html, httpHandler, json, nurtureDependencies, parseInput, wantsJson } from "@leadflow/lambda";
import { z } from "zod";

const Path = z.object({ token: z.string().min(1).max(64) });

/** GET /unsubscribe/{token}: a page with the Unsubscribe button; it changes nothing itself. */
export const handler = httpHandler(async (event) => {
  const { token } = parseInput(Path, event.pathParameters, "path");
  const { email, unsubscribed } = await unsubscribeTarget(nurtureDependencies(), token);
  if (wantsJson(event)) return json(200, { unsubscribed });
  return html(200, unsubscribePage(email, unsubscribed, event.rawPath));
});
