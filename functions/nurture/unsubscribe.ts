import { unsubscribe, unsubscribedPage } from "@leadflow/core";
import { html, httpHandler, json, logger, nurtureDependencies, parseInput, wantsJson } from "@leadflow/lambda";
import { z } from "zod";

const Path = z.object({ token: z.string().min(1).max(64) });

/**
 * POST /unsubscribe/{token}: RFC 8058 one-click (a mail client posts `List-Unsubscribe=One-Click`)
 * or the page's button. Unsubscribes at once, with no login and no second step.
 */
export const handler = httpHandler(async (event) => {
  const { token } = parseInput(Path, event.pathParameters, "path");
  const { leadId, email, exited } = await unsubscribe(nurtureDependencies(), token);
  logger.info("Unsubscribed", { leadId, exitedEnrolments: exited });
  if (wantsJson(event)) return json(200, { unsubscribed: true });
  return html(200, unsubscribedPage(email));
});
