import { AlertGoneError, alertPage, gonePage, viewAlert } from "@leadflow/core";
import { html, httpHandler, json, parseInput, speedToLeadDependencies, wantsJson } from "@leadflow/lambda";
import { z } from "zod";

const Path = z.object({ token: z.string().min(1).max(128) });

/** GET /alerts/{token}: the lead, why it is hot, and the Accept and Decline buttons (410 once gone). */
export const handler = httpHandler(async (event) => {
  const { token } = parseInput(Path, event.pathParameters, "path");
  try {
    const { alert, brief } = await viewAlert(speedToLeadDependencies(), token);
    if (wantsJson(event)) return json(200, { lead: brief, recipient: alert.recipient.id, deadline: alert.deadline });
    return html(200, alertPage(alert, brief, event.rawPath, new Date(alert.deadline)));
  } catch (error) {
    if (error instanceof AlertGoneError && !wantsJson(event)) return html(410, gonePage(error.message));
    throw error;
  }
});
