import { enrolmentView, NotFoundError, toLeadView } from "@leadflow/core";
import {
  clock,
  httpHandler,
  json,
  leadStore,
  loadSecrets,
  nurtureStore,
  parseInput,
  requireApiKey,
  scoringModel,
} from "@leadflow/lambda";
import { z } from "zod";

const { ADMIN_API_KEY } = await loadSecrets(["ADMIN_API_KEY"]);
const Path = z.object({ id: z.string().min(1).max(128) });

/** GET /leads/{id}: the lead with its sources, history and nurture sequences. */
export const handler = httpHandler(async (event) => {
  requireApiKey(event, ADMIN_API_KEY);
  const { id } = parseInput(Path, event.pathParameters, "path");
  const [found, enrolments] = await Promise.all([leadStore().getLeadWithHistory(id), nurtureStore().enrolmentsOf(id)]);
  if (!found) throw new NotFoundError(`No lead with id ${id}`);
  const view = toLeadView(found.lead, found.history, scoringModel(), clock.now());
  return json(200, { ...view, nurture: enrolments.map(enrolmentView) });
});
