import { z } from "zod";
import type { LocalTool } from "./gateway.ts";
import type { Outbox } from "./outbox.ts";
import { readJson, reply } from "./reply.ts";

const OutageSchema = z.object({ channel: z.enum(["email", "sms"]), on: z.boolean() });

/**
 * `/_local/messages`: `GET` lists every email and SMS the local emulators accepted, oldest first
 * (`{ "items": [...], "next": N }`; `?channel=sms`, `?to=` narrow it; `?offset=N` with the `next`
 * of an earlier answer lists only what was sent since); `POST …/outage` with
 * `{ "channel": "sms", "on": true }` makes that channel's sends fail with throttling until it is
 * switched off, so retries can be watched.
 */
export function messagesTool(outbox: Outbox): LocalTool {
  return async (request, response, path) => {
    if (path === "" || path === "/") {
      if (request.method !== "GET") return reply(response, 405, { error: { code: "method_not_allowed" } });
      const query = new URL(request.url ?? "/", "http://localhost").searchParams;
      const offset = Number(query.get("offset") ?? 0);
      // Past the end (an earlier run's `next`, the outbox being in memory) would hide what comes.
      if (!Number.isSafeInteger(offset) || offset < 0 || offset > outbox.size) {
        return reply(response, 422, {
          error: {
            code: "validation_failed",
            message: `offset is the \`next\` of an earlier answer: 0 to ${outbox.size}`,
          },
        });
      }
      const filter = { channel: query.get("channel") ?? undefined, to: query.get("to") ?? undefined, offset };
      return reply(response, 200, { items: outbox.list(filter), next: outbox.size });
    }
    if (path === "/outage") {
      if (request.method !== "POST") return reply(response, 405, { error: { code: "method_not_allowed" } });
      const parsed = OutageSchema.safeParse(await readJson(request));
      if (!parsed.success) {
        return reply(response, 422, {
          error: { code: "validation_failed", message: 'Send { "channel": "email" | "sms", "on": true | false }' },
        });
      }
      outbox.outage[parsed.data.channel] = parsed.data.on;
      return reply(response, 200, { outage: outbox.outage });
    }
    reply(response, 404, { error: { code: "not_found", message: `No local tool at /_local/messages${path}` } });
  };
}
