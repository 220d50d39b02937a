import type { Lead, LeadSource } from "./lead.ts";

export type HistoryType =
  | "lead.captured"
  | "lead.event"
  | "score.changed"
  | "temperature.changed"
  | "stage.changed"
  | "lead.rescored";

/** One line of a lead's history: what happened, when, and why. Newest first when read. */
export interface HistoryEntry {
  leadId: string;
  /** Unique within the lead; the same event always gets the same id, so rewriting it is harmless. */
  id: string;
  at: string;
  type: HistoryType;
  summary: string;
  details: Record<string, unknown>;
}

export function captureHistoryEntry(lead: Pick<Lead, "id">, source: LeadSource): HistoryEntry {
  const verb = source.outcome === "created" ? "Created from" : "Merged a capture from";
  const test = source.test ? " (test lead)" : "";
  return {
    leadId: lead.id,
    id: `capture:${source.source}:${source.platformLeadId}`,
    at: source.receivedAt,
    type: "lead.captured",
    summary: `${verb} ${source.source}${test}`,
    details: {
      source: source.source,
      platformLeadId: source.platformLeadId,
      outcome: source.outcome,
      changedFields: source.changedFields,
      ...(source.identityConflicts ? { identityConflicts: source.identityConflicts } : {}),
    },
  };
}
