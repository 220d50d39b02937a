import { NotFoundError, toLeadView } from "@leadflow/core";
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
const Path = z.object({ id: z.string().min(1).max(128) });

/** GET /leads/{id}: the lead with its sources and history. */
export const handler = httpHandler(async (event) => {
  requireApiKey(event, ADMIN_API_KEY);
  const { id } = parseInput(Path, event.pathParameters, "path");
  const found = await leadStore().getLeadWithHistory(id);
  if (!found) throw new NotFoundError(`No lead with id ${id}`);
  return json(200, toLeadView(found.lead, found.history, scoringModel(), clock.now()));
});
