import { foldEvents } from "../scoring/engagement.ts";
import {
  appliedEvents,
  type EventStore,
  needsReplay,
  rememberedEvents,
  type ScoringDependencies,
} from "../scoring/events.ts";
import { qualify } from "../scoring/qualify.ts";
import { captureHistoryEntry } from "./history.ts";
import { type IdentityClaims, identifiersOf, resolveIdentity } from "./identity.ts";
import { type AppliedCapture, applyCapture, type CaptureReceipt, findSource, type Lead } from "./lead.ts";
import { leadArrived } from "./lead-events.ts";
import type { NormalizedLead } from "./normalize.ts";
import { ConcurrentUpdateError, flushPending, maxSaveAttempts, withoutPending } from "./updates.ts";

/** A delivery's pin: the lead it belongs to, and whether it is applied to that lead yet. */
export interface DeliveryPin {
  leadId: string;
  /** Marked once the lead write and its history are done; absent on pins of earlier releases. */
  applied: boolean;
  contentHash?: string;
}

/** What ingestion needs from storage. Every write is a single-item write, conditional where it matters. */
export interface LeadRepository extends IdentityClaims, EventStore {
  /** The delivery's pin, once a worker has pinned it. */
  findReceipt(receipt: CaptureReceipt): Promise<DeliveryPin | undefined>;
  /** Pins the delivery to `leadId` unless it is pinned already; returns the pin either way. */
  pinReceipt(receipt: CaptureReceipt, leadId: string): Promise<DeliveryPin>;
  /** Notes that the delivery is on its lead, history written: a retry then needs no lead read. */
  markReceiptApplied(receipt: CaptureReceipt): Promise<void>;
}

export interface IngestDependencies extends ScoringDependencies {
  repository: LeadRepository;
  newLeadId: () => string;
  /** Whether a lead created from this source is announced (`lead.arrived`); none when absent. */
  alertsOnArrival?: (source: string) => boolean;
}

export interface IngestResult {
  leadId: string;
  outcome: "created" | "merged" | "duplicate";
  /** A duplicate whose content differs from the delivery first stored under its id. */
  contentChanged?: boolean;
}

/**
 * Stores one delivery exactly once. Before touching a lead, the delivery is pinned to it (its
 * receipt, a conditional write): a retry, or a copy of the message handled at the same time,
 * follows the pin even if identity would resolve differently by then, so a delivery can only
 * ever be applied to one lead. Once applied (lead written, history flushed) the pin is marked;
 * until then the lead's own list of its newest deliveries tells. `loadLead` runs only for a
 * delivery not applied yet (for Meta it calls the Graph API).
 */
export async function ingestCapture(
  deps: IngestDependencies,
  receipt: CaptureReceipt,
  loadLead: () => NormalizedLead | Promise<NormalizedLead>,
): Promise<IngestResult> {
  const { repository } = deps;
  const pinned = await repository.findReceipt(receipt);
  if (pinned?.applied) return duplicate(pinned, receipt);
  if (pinned !== undefined && (await finishIfApplied(deps, pinned.leadId, receipt))) {
    return duplicate(pinned, receipt);
  }

  const capture = { receipt, lead: await loadLead() };
  const identifiers = identifiersOf(capture.lead);
  let identity = await resolveIdentity(repository, identifiers, deps.newLeadId, pinned?.leadId);
  if (pinned === undefined) {
    const pinnedNow = await repository.pinReceipt(receipt, identity.leadId);
    if (pinnedNow.leadId !== identity.leadId)
      identity = await resolveIdentity(repository, identifiers, deps.newLeadId, pinnedNow.leadId);
  }

  for (let attempt = 0; attempt < maxSaveAttempts; attempt++) {
    // A lead just minted here is created without reading it first; if someone was faster, the
    // create is refused and the next attempt reads.
    const current = attempt === 0 && identity.isNew ? undefined : await repository.getLead(identity.leadId);
    if (current && findSource(current, receipt)) {
      await finish(deps, current, receipt);
      return { leadId: current.id, outcome: "duplicate" };
    }
    if (current) await flushPending(deps, current);
    const now = deps.now();
    const applied = applyCapture(withoutPending(current), capture, {
      leadId: identity.leadId,
      now,
      identityConflicts: identity.conflicts,
    });
    const next = await qualifyCapture(deps, applied, now);
    if (await repository.saveLead(next, current?.version)) {
      await finish(deps, next, receipt);
      return { leadId: next.id, outcome: applied.source.outcome };
    }
  }
  throw new ConcurrentUpdateError(`Lead ${identity.leadId} kept changing during ${maxSaveAttempts} attempts`);
}

function duplicate(pin: DeliveryPin, receipt: CaptureReceipt): IngestResult {
  const compared = pin.contentHash !== undefined && receipt.contentHash !== undefined;
  return {
    leadId: pin.leadId,
    outcome: "duplicate",
    ...(compared ? { contentChanged: pin.contentHash !== receipt.contentHash } : {}),
  };
}

/** Whether the delivery is on its pinned lead already (a retry); if so, finishes what it left. */
async function finishIfApplied(deps: IngestDependencies, leadId: string, receipt: CaptureReceipt): Promise<boolean> {
  const lead = await deps.repository.getLead(leadId);
  if (!lead || !findSource(lead, receipt)) return false;
  await finish(deps, lead, receipt);
  return true;
}

/** Carries out what the lead write left pending (its history), then marks the delivery applied. */
async function finish(deps: IngestDependencies, lead: Lead, receipt: CaptureReceipt): Promise<void> {
  await flushPending(deps, lead);
  await deps.repository.markReceiptApplied(receipt);
}

/**
 * The merged lead scored for what it now is; its capture entry, changes and events left pending
 * (`lead.arrived` when it was just created from a source that alerts on arrival).
 */
async function qualifyCapture(deps: IngestDependencies, applied: AppliedCapture, now: string): Promise<Lead> {
  const { model } = deps;
  const { lead, source } = applied;
  const replayed = needsReplay(lead, model) ? foldEvents(await appliedEvents(deps.repository, lead), model) : undefined;
  const result = qualify(lead, model, {
    now,
    version: lead.version,
    cause: { kind: "capture", source: source.source, platformLeadId: source.platformLeadId },
    ...(replayed ? { engagement: replayed } : {}),
  });
  const qualification = { ...result.qualification, recentEventIds: rememberedEvents(lead.qualification) };
  const created = source.outcome === "created" && deps.alertsOnArrival?.(source.source) === true;
  return {
    ...lead,
    qualification,
    pending: {
      history: [captureHistoryEntry(lead, applied), ...result.history],
      signals: [...(created ? [leadArrived(lead, source, qualification)] : []), ...result.signals],
    },
  };
}
