import { EventsBodySchema, EventsMessageSchema, NotFoundError, validateEvents } from "@leadflow/core";
import {
  clock,
  httpHandler,
  json,
  leadStore,
  loadSecrets,
  parseBody,
  parseInput,
  queueSender,
  requireApiKey,
  requiredSetting,
  scoringModel,
} from "@leadflow/lambda";
import { environmentNames } from "@leadflow/manifest";
import { z } from "zod";

const { EVENTS_API_KEY, ADMIN_API_KEY } = await loadSecrets(["EVENTS_API_KEY", "ADMIN_API_KEY"]);
const enqueue = queueSender(requiredSetting(environmentNames.queueUrl("events")), EventsMessageSchema);
const Path = z.object({ id: z.string().min(1).max(128) });

/** POST /leads/{id}/events (events key, write-only; or the admin key): validate, enqueue, then 202. */
export const handler = httpHandler(async (event) => {
  requireApiKey(event, EVENTS_API_KEY, ADMIN_API_KEY);
  const { id } = parseInput(Path, event.pathParameters, "path");
  const now = clock.now();
  const events = validateEvents(parseBody(EventsBodySchema, event), scoringModel(), now);
  if (!(await leadStore().leadExists(id))) throw new NotFoundError(`No lead with id ${id}`);
  await enqueue([{ leadId: id, receivedAt: now.toISOString(), events }]);
  return json(202, { leadId: id, accepted: events.map((accepted) => accepted.id) });
});
