import type { DomainEventPublisher } from "../domain-events/index.ts";
import type { HistoryEntry } from "./history.ts";
import type { Lead } from "./lead.ts";

/** Reading and writing one lead: every write is a single-item write, conditional on the version. */
export interface LeadWriter {
  getLead(id: string): Promise<Lead | undefined>;
  /** Creates the lead when `expectedVersion` is undefined; false when someone wrote first. */
  saveLead(lead: Lead, expectedVersion: number | undefined): Promise<boolean>;
  /** Writes a history entry; writing the same entry again is harmless. */
  recordHistory(entry: HistoryEntry): Promise<void>;
  /** Drops the lead's pending effects once carried out, unless the lead has changed since. */
  clearPending(leadId: string, version: number): Promise<void>;
}

/** The name domain event publishers had when scoring's signals were the only events. */
export type SignalPublisher = DomainEventPublisher;

export interface LeadUpdateDependencies {
  repository: LeadWriter;
  publisher: DomainEventPublisher;
}

/** Raised when other writers keep winning the race for one lead; the work is retried later. */
export class ConcurrentUpdateError extends Error {
  override readonly name = "ConcurrentUpdateError";
}

export const maxSaveAttempts = 8;

/**
 * Carries out what a lead write left pending: its history entries (idempotent puts) and its
 * domain events (published), then clears them from the lead. Run after every save, and before every
 * write on the lead as loaded, in case the writer before died between its save and this.
 */
export async function flushPending({ repository, publisher }: LeadUpdateDependencies, lead: Lead): Promise<void> {
  if (!lead.pending) return;
  const { history, signals } = lead.pending;
  await Promise.all(history.map((entry) => repository.recordHistory(entry)));
  if (signals.length > 0) await publisher.publish(signals);
  await repository.clearPending(lead.id, lead.version);
}

/** The lead as a base for its next write: what was pending is carried out already. */
export function withoutPending<L extends Lead | undefined>(lead: L): L {
  if (!lead?.pending) return lead;
  const { pending: _pending, ...rest } = lead;
  return rest as L;
}

export type LeadChange = (lead: Lead) => Lead | undefined | Promise<Lead | undefined>;

export interface LeadUpdate {
  lead: Lead;
  changed: boolean;
}

/**
 * Reads the lead, applies `change` and saves the result if the lead has not moved meanwhile,
 * else starts over; undefined when there is no such lead. `change` returns undefined when there
 * is nothing to write.
 */
export async function updateLead(
  deps: LeadUpdateDependencies,
  leadId: string,
  change: LeadChange,
): Promise<LeadUpdate | undefined> {
  for (let attempt = 0; attempt < maxSaveAttempts; attempt++) {
    const lead = await deps.repository.getLead(leadId);
    if (!lead) return undefined;
    await flushPending(deps, lead);
    const next = await change(withoutPending(lead));
    if (!next) return { lead, changed: false };
    if (await deps.repository.saveLead(next, lead.version)) {
      await flushPending(deps, next);
      return { lead: next, changed: true };
    }
  }
  throw new ConcurrentUpdateError(`Lead ${leadId} kept changing during ${maxSaveAttempts} attempts`);
}
