import type { HistoryEntry } from "./history.ts";
import type { Lead, LeadSource } from "./lead.ts";

/** The lead as the admin API shows it. */
export function toLeadView(lead: Lead, history: readonly HistoryEntry[]) {
  const { version: _version, id, sources, ...fields } = lead;
  const ordered = [...sources].sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  return {
    id,
    ...fields,
    sources: ordered,
    firstSource: ordered.at(0) && sourceSummary(ordered[0] as LeadSource),
    latestSource: ordered.at(-1) && sourceSummary(ordered.at(-1) as LeadSource),
    test: ordered.length > 0 && ordered.every((source) => source.test),
    history: history.map(({ leadId: _leadId, ...entry }) => entry),
  };
}

export type LeadView = ReturnType<typeof toLeadView>;

function sourceSummary({ source, platformLeadId, receivedAt, test }: LeadSource) {
  return { source, platformLeadId, receivedAt, test };
}
