import { clock, localClockOffset, setLocalClockOffset } from "@leadflow/core";
import { Duration } from "luxon";
import { z } from "zod";
import type { LocalTool } from "./gateway.ts";
import { readJson, reply } from "./reply.ts";

const AdvanceSchema = z.object({
  /** An ISO 8601 duration: `PT10M`, `P3D`, `P1M`. */
  advance: z.string().min(2).max(64),
});

/**
 * `/_local/clock`: `GET` answers `{ "now" }`; `POST` with `{ "advance": "P3D" }` moves the clock of
 * every handler in both processes forward (never back) and answers once both go by it. Schedules
 * that came due in the time skipped run once, as a late EventBridge target would.
 */
export function clockTool(onAdvance: (offsetMs: number, from: Date) => Promise<void>): LocalTool {
  return async (request, response, path) => {
    if (path !== "" && path !== "/") return reply(response, 404, { error: { code: "not_found" } });
    if (request.method === "GET") return reply(response, 200, { now: clock.nowIso() });
    if (request.method !== "POST") return reply(response, 405, { error: { code: "method_not_allowed" } });
    const parsed = AdvanceSchema.safeParse(await readJson(request));
    const step = parsed.success ? Duration.fromISO(parsed.data.advance) : undefined;
    const milliseconds = step?.isValid ? step.toMillis() : Number.NaN;
    if (!(milliseconds > 0) || !Number.isSafeInteger(milliseconds)) {
      return reply(response, 422, {
        error: {
          code: "validation_failed",
          message: 'Send { "advance": "<ISO 8601 duration>" }, forward only: "PT10M", "P3D", "P1M"',
        },
      });
    }
    const from = clock.now();
    const offset = localClockOffset() + milliseconds;
    setLocalClockOffset(offset);
    await onAdvance(offset, from);
    reply(response, 200, { now: clock.nowIso() });
  };
}
