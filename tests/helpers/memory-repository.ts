import {
  type CaptureReceipt,
  type DeliveryPin,
  type DomainEvent,
  type DomainEventPublisher,
  deliveryScope,
  type HistoryEntry,
  type Identifier,
  identifierKey,
  type Lead,
  type LeadRepository,
  type StoredEvent,
} from "@leadflow/core";

/**
 * The repository contract in memory, with the same conditional-write semantics as the table.
 * For unit tests of ingestion rules; the real store is covered against the emulators.
 */
export function memoryRepository() {
  const leads = new Map<string, Lead>();
  const claims = new Map<string, string>();
  const receipts = new Map<string, DeliveryPin>();
  const history: HistoryEntry[] = [];
  const events = new Map<string, StoredEvent>();
  const receiptKey = (receipt: CaptureReceipt) => `${deliveryScope(receipt)}#${receipt.platformLeadId}`;
  const copy = <T>(value: T): T => structuredClone(value);

  const repository: LeadRepository = {
    async findReceipt(receipt) {
      const pin = receipts.get(receiptKey(receipt));
      return pin && copy(pin);
    },
    async findOwners(identifiers: readonly Identifier[]) {
      const owners = new Map<string, string>();
      for (const identifier of identifiers) {
        const owner = claims.get(identifierKey(identifier));
        if (owner) owners.set(identifierKey(identifier), owner);
      }
      return owners;
    },
    async claim(identifier, leadId) {
      return createOnce(claims, identifierKey(identifier), leadId);
    },
    async markReceiptApplied(receipt) {
      const pin = receipts.get(receiptKey(receipt));
      if (pin) pin.applied = true;
    },
    async getLead(id) {
      const lead = leads.get(id);
      return lead && copy(lead);
    },
    async saveLead(lead, expectedVersion) {
      if (leads.get(lead.id)?.version !== expectedVersion) return false;
      leads.set(lead.id, copy(lead));
      return true;
    },
    async pinReceipt(receipt, leadId) {
      const pin = { leadId, applied: false, ...(receipt.contentHash ? { contentHash: receipt.contentHash } : {}) };
      return copy(createOnce(receipts, receiptKey(receipt), pin));
    },
    async recordHistory(entry) {
      const index = history.findIndex((existing) => existing.leadId === entry.leadId && existing.id === entry.id);
      if (index >= 0) history.splice(index, 1);
      history.push(copy(entry));
    },
    async clearPending(leadId, version) {
      const lead = leads.get(leadId);
      if (lead?.version === version) delete lead.pending;
    },
    async storeEvents(leadId, candidates) {
      return candidates.map((candidate) => {
        const key = `${leadId}#${candidate.id}`;
        const existing = events.get(key) ?? { event: candidate, applied: false };
        events.set(key, existing);
        return copy(existing);
      });
    },
    async listEvents(leadId) {
      return [...events.entries()].filter(([key]) => key.startsWith(`${leadId}#`)).map(([, stored]) => copy(stored));
    },
    async markEventsApplied(leadId, eventIds) {
      for (const id of eventIds) {
        const stored = events.get(`${leadId}#${id}`);
        if (stored) stored.applied = true;
      }
    },
  };
  return { repository, leads, claims, receipts, history, events };
}

/** A publisher that keeps what it is given. */
export function memoryPublisher() {
  const published: DomainEvent[] = [];
  const publisher: DomainEventPublisher = {
    async publish(events) {
      published.push(...events);
    },
  };
  return { publisher, published };
}

/** `attribute_not_exists` in memory: the first value written for a key stays; returns it. */
function createOnce<Value>(items: Map<string, Value>, key: string, value: Value): Value {
  if (!items.has(key)) items.set(key, value);
  return items.get(key) as Value;
}
