import { mapLimited } from "../concurrency.ts";
import { updateLead } from "../leads/updates.ts";
import { requalify, type ScoringDependencies } from "./events.ts";

export interface RefreshResult {
  checked: number;
  changed: number;
}

/** Leads scored at once by the refresh and by rescore: enough to hide latency, not to throttle. */
const concurrency = 8;

/**
 * Scores again, at the current time, each lead the cooling index says may have cooled; each
 * changed lead gets history entries saying why. Reads only those leads, page by page.
 */
export async function refreshTemperatures(
  deps: ScoringDependencies,
  leadIdPages: AsyncIterable<readonly string[]>,
): Promise<RefreshResult> {
  const result: RefreshResult = { checked: 0, changed: 0 };
  for await (const leadIds of leadIdPages) {
    const changed = await mapLimited(leadIds, concurrency, (leadId) =>
      updateLead(deps, leadId, (lead) => requalify(deps, lead, { kind: "decay" })),
    );
    result.checked += leadIds.length;
    result.changed += changed.filter((update) => update?.changed).length;
  }
  return result;
}

/** Scores each lead again with the current config, replaying its events; true when it changed. */
export async function rescoreLeads(deps: ScoringDependencies, leadIds: readonly string[]): Promise<number> {
  const updates = await mapLimited(leadIds, concurrency, (leadId) =>
    updateLead(deps, leadId, (lead) =>
      requalify(deps, lead, { kind: "rescore", previousVersion: lead.qualification?.configVersion }),
    ),
  );
  return updates.filter((update) => update?.changed).length;
}
