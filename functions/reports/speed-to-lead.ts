import { speedToLeadReport } from "@leadflow/core";
import { clock, httpHandler, json, loadSecrets, parseInput, requireApiKey, routingStore } from "@leadflow/lambda";
import { z } from "zod";

const { ADMIN_API_KEY } = await loadSecrets(["ADMIN_API_KEY"]);
const weekMs = 7 * 24 * 60 * 60 * 1000;
const Query = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .transform(({ from, to }) => {
    const end = to ? new Date(to) : clock.now();
    return { from: from ? new Date(from) : new Date(end.getTime() - weekMs), to: end };
  })
  .refine(({ from, to }) => from < to, { message: "from must be before to", path: ["from"] })
  .refine(({ from, to }) => to.getTime() - from.getTime() <= 366 * 24 * 60 * 60 * 1000, {
    message: "a report covers at most a year",
    path: ["from"],
  });

/** GET /reports/speed-to-lead?from=&to=: alerts, answers and acceptance times per rep and team (default: the last 7 days). */
export const handler = httpHandler(async (event) => {
  requireApiKey(event, ADMIN_API_KEY);
  const { from, to } = parseInput(Query, event.queryStringParameters, "query: from and to in ISO 8601");
  return json(200, speedToLeadReport(await routingStore().alertsSent(from, to), from, to));
});
