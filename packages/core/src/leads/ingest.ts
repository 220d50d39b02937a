import { captureHistoryEntry, type HistoryEntry } from "./history.ts";
import { type IdentityClaims, identifiersOf, resolveIdentity } from "./identity.ts";
import { applyCapture, type CaptureReceipt, findSource, type Lead } from "./lead.ts";
import type { NormalizedLead } from "./normalize.ts";

/** What ingestion needs from storage. Every write is a single-item conditional write. */
export interface LeadRepository extends IdentityClaims {
  /** The lead a delivery was stored as, once it has been stored. */
  findReceipt(receipt: CaptureReceipt): Promise<string | undefined>;
  getLead(id: string): Promise<Lead | undefined>;
  /** Creates the lead when `expectedVersion` is undefined; false when someone wrote first. */
  saveLead(lead: Lead, expectedVersion: number | undefined): Promise<boolean>;
  /** Writes the history entry and the receipt; both are idempotent overwrites. */
  recordCapture(entry: HistoryEntry, receipt: CaptureReceipt, leadId: string): Promise<void>;
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
 * Stores one delivery exactly once. A platform retry is recognised by its receipt or, after a
 * crash between the lead write and the receipt, by the source already on the lead.
 * `loadLead` runs only for a delivery not stored yet (for Meta it calls the Graph API).
 */
export async function ingestCapture(
  deps: IngestDependencies,
  receipt: CaptureReceipt,
  loadLead: () => NormalizedLead | Promise<NormalizedLead>,
): Promise<IngestResult> {
  const { repository } = deps;
  const storedAs = await repository.findReceipt(receipt);
  if (storedAs !== undefined) return { leadId: storedAs, outcome: "duplicate" };

  const capture = { receipt, lead: await loadLead() };
  const identity = await resolveIdentity(repository, identifiersOf(capture.lead), deps.newLeadId);
  for (let attempt = 0; attempt < maxSaveAttempts; attempt++) {
    // A lead just minted here is created without reading it first; if someone was faster, the
    // create is refused and the next attempt reads.
    const current = attempt === 0 && identity.isNew ? undefined : await repository.getLead(identity.leadId);
    const applied = current && findSource(current, capture.receipt);
    if (current && applied) {
      await repository.recordCapture(captureHistoryEntry(current, applied), capture.receipt, current.id);
      return { leadId: current.id, outcome: "duplicate" };
    }
    const next = applyCapture(current, capture, {
      leadId: identity.leadId,
      now: deps.now(),
      identityConflicts: identity.conflicts,
    });
    if (await repository.saveLead(next, current?.version)) {
      const source = next.sources.at(-1) as Lead["sources"][number];
      await repository.recordCapture(captureHistoryEntry(next, source), capture.receipt, next.id);
      return { leadId: next.id, outcome: source.outcome };
    }
  }
  throw new ConcurrentUpdateError(`Lead ${identity.leadId} kept changing during ${maxSaveAttempts} attempts`);
}
