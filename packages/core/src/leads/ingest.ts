import { captureHistoryEntry, type HistoryEntry } from "./history.ts";
import { type IdentityClaims, identifiersOf, resolveIdentity } from "./identity.ts";
import { applyCapture, type CaptureReceipt, findSource, type Lead } from "./lead.ts";
import type { NormalizedLead } from "./normalize.ts";

/** What ingestion needs from storage. Every write is a single-item write, conditional where it matters. */
export interface LeadRepository extends IdentityClaims {
  /** The lead a delivery is pinned to, once a worker has pinned it. */
  findReceipt(receipt: Pick<CaptureReceipt, "source" | "platformLeadId">): Promise<string | undefined>;
  /** Pins the delivery to `leadId` unless it is pinned already; returns the lead it is pinned to. */
  pinReceipt(receipt: CaptureReceipt, leadId: string): Promise<string>;
  getLead(id: string): Promise<Lead | undefined>;
  /** Creates the lead when `expectedVersion` is undefined; false when someone wrote first. */
  saveLead(lead: Lead, expectedVersion: number | undefined): Promise<boolean>;
  /** Writes a history entry; writing the same entry again is harmless. */
  recordHistory(entry: HistoryEntry): Promise<void>;
}

export interface IngestDependencies {
  repository: LeadRepository;
  newLeadId: () => string;
  now: () => string;
}

export interface IngestResult {
  leadId: string;
  outcome: "created" | "merged" | "duplicate";
}

/** Raised when other writers keep winning the race for one lead; the delivery is retried later. */
export class ConcurrentUpdateError extends Error {
  override readonly name = "ConcurrentUpdateError";
}

const maxSaveAttempts = 8;

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
  if (pinned !== undefined && (await finishIfApplied(repository, pinned, receipt))) {
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
      await repository.recordHistory(captureHistoryEntry(current, applied));
      return { leadId: current.id, outcome: "duplicate" };
    }
    const next = applyCapture(current, capture, {
      leadId: identity.leadId,
      now: deps.now(),
      identityConflicts: identity.conflicts,
    });
    if (await repository.saveLead(next, current?.version)) {
      const source = next.sources.at(-1) as Lead["sources"][number];
      await repository.recordHistory(captureHistoryEntry(next, source));
      return { leadId: next.id, outcome: source.outcome };
    }
  }
  throw new ConcurrentUpdateError(`Lead ${identity.leadId} kept changing during ${maxSaveAttempts} attempts`);
}

/**
 * Whether the delivery is on its pinned lead already (a retry); if so, (re)writes its history
 * entry, which a crash between the lead write and the history write may have left unwritten.
 */
async function finishIfApplied(repository: LeadRepository, leadId: string, receipt: CaptureReceipt): Promise<boolean> {
  const lead = await repository.getLead(leadId);
  const applied = lead && findSource(lead, receipt);
  if (!lead || !applied) return false;
  await repository.recordHistory(captureHistoryEntry(lead, applied));
  return true;
}
