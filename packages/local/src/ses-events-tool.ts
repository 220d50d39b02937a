import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SesEventSchema } from "@leadflow/core";
import { z } from "zod";
import type { QueueLocation } from "./emulators.ts";
import type { LocalTool } from "./gateway.ts";
import { readJson, reply } from "./reply.ts";

const BodySchema = z.union([SesEventSchema, z.array(SesEventSchema).min(1).max(100)]);

/**
 * `POST /_local/ses-events`: SES events (the JSON event publishing sends to SNS: one object, or an
 * array of up to 100) put on the local `deliverability` queue as SNS raw delivery would, for the
 * same consumer as on AWS. Answers 202 `{ "queued": n }`, or 422 for what is not an SES event.
 */
export function sesEventsTool(sqs: SQSClient, queue: QueueLocation): LocalTool {
  return async (request, response, path) => {
    if (path !== "" && path !== "/") return reply(response, 404, { error: { code: "not_found" } });
    if (request.method !== "POST") return reply(response, 405, { error: { code: "method_not_allowed" } });
    const body = await readJson(request);
    const parsed = BodySchema.safeParse(body);
    if (!parsed.success) {
      return reply(response, 422, {
        error: {
          code: "validation_failed",
          message:
            "Send an SES event ({ eventType, mail: { messageId, … }, bounce | complaint | open | click }) or an array of them",
          details: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
        },
      });
    }
    // The events as they were posted (raw delivery passes SES's JSON through unchanged).
    const events = (Array.isArray(body) ? body : [body]) as unknown[];
    for (let start = 0; start < events.length; start += 10) {
      const entries = events
        .slice(start, start + 10)
        .map((event, index) => ({ Id: String(index), MessageBody: JSON.stringify(event) }));
      const { Failed = [] } = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }));
      if (Failed.length > 0) {
        return reply(response, 503, {
          error: { code: "unavailable", message: `The queue refused ${Failed.length} events; post them again` },
        });
      }
    }
    reply(response, 202, { queued: events.length });
  };
}
