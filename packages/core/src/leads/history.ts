import { type AppliedCapture, deliveryScope, type Lead } from "./lead.ts";
import { leadLimits } from "./limits.ts";

export type HistoryType =
  | "lead.captured"
  | "lead.event"
  | "score.changed"
  | "temperature.changed"
  | "stage.changed"
  | "lead.rescored"
  | "alert.sent"
  | "alert.reminded"
  | "alert.accepted"
  | "alert.declined"
  | "alert.timed-out"
  | "alert.escalated";

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

/** The history entry of a delivery merged into its lead. */
export function captureHistoryEntry(lead: Pick<Lead, "id">, applied: Omit<AppliedCapture, "lead">): HistoryEntry {
  const { source, changedFields, droppedCustomFields } = applied;
  const verb = source.outcome === "created" ? "Created from" : "Merged a capture from";
  const test = source.test ? " (test lead)" : "";
  const listed = changedFields.slice(0, leadLimits.changedFieldsListed);
  return {
    leadId: lead.id,
    id: `capture:${deliveryScope(source)}:${source.platformLeadId}`,
    at: source.receivedAt,
    type: "lead.captured",
    summary: `${verb} ${source.source}${test}`,
    details: {
      source: source.source,
      platformLeadId: source.platformLeadId,
      outcome: source.outcome,
      changedFields: listed,
      ...(listed.length < changedFields.length ? { changedFieldCount: changedFields.length } : {}),
      ...(droppedCustomFields > 0 ? { droppedCustomFields } : {}),
      ...(source.identityConflicts ? { identityConflicts: source.identityConflicts } : {}),
    },
  };
}
