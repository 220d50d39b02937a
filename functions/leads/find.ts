import { phoneFromQuery, toLeadView } from "@leadflow/core";
import {
  clock,
  httpHandler,
  json,
  leadStore,
  loadSecrets,
  parseInput,
  requireApiKey,
  scoringModel,
} from "@leadflow/lambda";
import { z } from "zod";

const { ADMIN_API_KEY } = await loadSecrets(["ADMIN_API_KEY"]);
const e164 = z.string().transform((phone, context) => {
  const parsed = phoneFromQuery(phone);
  if (parsed) return parsed;
  context.addIssue({ code: "custom", message: "phone must be in E.164 form, e.g. %2B14155550100" });
  return z.NEVER;
});
const Query = z.union([
  z.object({ email: z.string().trim().toLowerCase().pipe(z.email()) }),
  z.object({ phone: e164 }),
]);

/** GET /leads?email= or ?phone=: `{ "items": [lead] }`, empty when nobody matches. */
export const handler = httpHandler(async (event) => {
  requireApiKey(event, ADMIN_API_KEY);
  const query = parseInput(Query, event.queryStringParameters, "query: give email or phone");
  const store = leadStore();
  const leadId =
    "email" in query ? await store.findLeadIdByEmail(query.email) : await store.findLeadIdByPhone(query.phone);
  const found = leadId ? await store.getLeadWithHistory(leadId) : undefined;
  return json(200, { items: found ? [toLeadView(found.lead, found.history, scoringModel(), clock.now())] : [] });
});
