import { AlertGoneError, answerAlert, answeredPage, gonePage, parseJsonText } from "@leadflow/core";
import {
  type HttpEvent,
  html,
  httpHandler,
  json,
  parseInput,
  rawBody,
  speedToLeadDependencies,
  wantsJson,
} from "@leadflow/lambda";
import { z } from "zod";

const Path = z.object({ token: z.string().min(1).max(128) });
const Answer = z.object({ action: z.enum(["accept", "decline"]) });

/**
 * POST /alerts/{token}: `action=accept|decline`, form-encoded from the page or JSON (answered in
 * JSON). The first answer wins (one owner however many accept at once); a used, superseded or
 * expired link is 410.
 */
export const handler = httpHandler(async (event) => {
  const { token } = parseInput(Path, event.pathParameters, "path");
  const sentJson = (event.headers["content-type"] ?? "").toLowerCase().includes("json");
  const fields = sentJson ? parseJsonText(rawBody(event).toString("utf8")) : formFields(event);
  const { action } = parseInput(Answer, fields, "answer: give action=accept or action=decline");
  const asJson = sentJson || wantsJson(event);
  try {
    const { alert, brief } = await answerAlert(speedToLeadDependencies(), token, action);
    const owner = alert.status === "accepted" ? alert.recipient.id : null;
    if (asJson) return json(200, { status: alert.status, leadId: alert.leadId, owner });
    return html(200, answeredPage(alert, brief));
  } catch (error) {
    if (error instanceof AlertGoneError && !asJson) return html(410, gonePage(error.message));
    throw error;
  }
});

function formFields(event: HttpEvent): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(rawBody(event).toString("utf8")));
}
