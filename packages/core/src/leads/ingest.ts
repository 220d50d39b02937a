import { foldEvents } from "../scoring/engagement.ts";
import { appliedEvents, type EventStore, needsReplay, type ScoringDependencies } from "../scoring/events.ts";
import { qualify } from "../scoring/qualify.ts";
import { captureHistoryEntry } from "./history.ts";
import { type IdentityClaims, identifiersOf, resolveIdentity } from "./identity.ts";
import { applyCapture, type CaptureReceipt, findSource, type Lead } from "./lead.ts";
import type { NormalizedLead } from "./normalize.ts";
import { ConcurrentUpdateError, flushPending, maxSaveAttempts } from "./updates.ts";

/** What ingestion needs from storage. Every write is a single-item write, conditional where it matters. */
export interface LeadRepository extends IdentityClaims, EventStore {
  /** The lead a delivery is pinned to, once a worker has pinned it. */
  findReceipt(receipt: Pick<CaptureReceipt, "source" | "platformLeadId">): Promise<string | undefined>;
  /** Pins the delivery to `leadId` unless it is pinned already; returns the lead it is pinned to. */
  pinReceipt(receipt: CaptureReceipt, leadId: string): Promise<string>;
}

export interface IngestDependencies extends ScoringDependencies {
  repository: LeadRepository;
  newLeadId: () => string;
}

export interface IngestResult {
  leadId: string;
  outcome: "created" | "merged" | "duplicate";
}

/**
 * Stores one delivery exactly once. Before touching a lead, the delivery is pinned to it (its
 * receipt, a conditional write): a retry, or a copy of the message handled at the same time,
 * follows the pin even if identity would resolve differently by then, so a delivery can only
 * ever be applied to one lead, and that lead records it in its sources. `loadLead` runs only
 * for a delivery not applied yet (for Meta it calls the Graph API).
 */
export async function ingestCapture(
  deps: IngestDependencies,
  receipt: CaptureReceipt,
  loadLead: () => NormalizedLead | Promise<NormalizedLead>,
): Promise<IngestResult> {
  const { repository } = deps;
  const pinned = await repository.findReceipt(receipt);
  if (pinned !== undefined && (await finishIfApplied(deps, pinned, receipt))) {
    return { leadId: pinned, outcome: "duplicate" };
  }

  const capture = { receipt, lead: await loadLead() };
  const identifiers = identifiersOf(capture.lead);
  let identity = await resolveIdentity(repository, identifiers, deps.newLeadId, pinned);
  if (pinned === undefined) {
    const pinnedNow = await repository.pinReceipt(receipt, identity.leadId);
    if (pinnedNow !== identity.leadId)
      identity = await resolveIdentity(repository, identifiers, deps.newLeadId, pinnedNow);
  }

  for (let attempt = 0; attempt < maxSaveAttempts; attempt++) {
    // A lead just minted here is created without reading it first; if someone was faster, the
    // create is refused and the next attempt reads.
    const current = attempt === 0 && identity.isNew ? undefined : await repository.getLead(identity.leadId);
    const applied = current && findSource(current, receipt);
    if (current && applied) {
      await finish(deps, current, applied);
      return { leadId: current.id, outcome: "duplicate" };
    }
    if (current) await flushPending(deps, current);
    const now = deps.now();
    const merged = applyCapture(current, capture, {
      leadId: identity.leadId,
      now,
      identityConflicts: identity.conflicts,
    });
    const next = await qualifyCapture(deps, merged, now);
    if (await repository.saveLead(next, current?.version)) {
      await flushPending(deps, next);
      return { leadId: next.id, outcome: (next.sources.at(-1) as Lead["sources"][number]).outcome };
    }
  }
  throw new ConcurrentUpdateError(`Lead ${identity.leadId} kept changing during ${maxSaveAttempts} attempts`);
}

/**
 * Whether the delivery is on its pinned lead already (a retry); if so, (re)writes its history
 * entry, which a crash between the lead write and the history write may have left unwritten.
 */
async function finishIfApplied(deps: IngestDependencies, leadId: string, receipt: CaptureReceipt): Promise<boolean> {
  const lead = await deps.repository.getLead(leadId);
  const applied = lead && findSource(lead, receipt);
  if (!lead || !applied) return false;
  await finish(deps, lead, applied);
  return true;
}

async function finish(deps: IngestDependencies, lead: Lead, applied: Lead["sources"][number]): Promise<void> {
  await deps.repository.recordHistory(captureHistoryEntry(lead, applied));
  await flushPending(deps, lead);
}

/** The merged lead scored for what it now is; its capture entry and changes left pending. */
async function qualifyCapture(deps: IngestDependencies, lead: Lead, now: string): Promise<Lead> {
  const { model } = deps;
  const source = lead.sources.at(-1) as Lead["sources"][number];
  const replayed = needsReplay(lead, model) ? foldEvents(await appliedEvents(deps.repository, lead), model) : undefined;
  const result = qualify(lead, model, {
    now,
    version: lead.version,
    cause: { kind: "capture", source: source.source, platformLeadId: source.platformLeadId },
    ...(replayed ? { engagement: replayed } : {}),
  });
  const recentEventIds = lead.qualification?.recentEventIds ?? [];
  return {
    ...lead,
    qualification: { ...result.qualification, recentEventIds },
    pending: { history: [captureHistoryEntry(lead, source), ...result.history], signals: result.signals },
  };
}
