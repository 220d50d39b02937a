import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type {
  BehaviourEvent,
  CaptureReceipt,
  DeliveryPin,
  HistoryEntry,
  Identifier,
  Lead,
  LeadRepository,
  Qualification,
  StoredEvent,
} from "@leadflow/core";
import { deliveryScope, identifierKey, isPlainObject, toFieldRecord } from "@leadflow/core";
import { createEntities, type Entities } from "./entities.ts";

const rejectQuietly = { response: "none", returnOnConditionCheckFailure: true } as const;

export interface LeadStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  now?: () => string;
}

/** Leads, their history, identity claims and delivery receipts in the single table. */
export function createLeadStore({ client, tableName, now = () => new Date().toISOString() }: LeadStoreOptions) {
  const entities = createEntities(client, tableName);
  const { lead, history, event, identity, receipt } = entities;

  const repository: LeadRepository = {
    async findReceipt(delivery) {
      const { data } = await receipt.get(receiptKey(delivery)).go({ consistent: true });
      return data ? toPin(data) : undefined;
    },

    async findOwners(identifiers) {
      const owners = new Map<string, string>();
      if (identifiers.length === 0) return owners;
      const keys = identifiers.map(({ kind, value }) => ({ kind, value }));
      const { data, unprocessed } = await identity.get(keys).go({ consistent: true });
      if (unprocessed.length > 0) throw new Error("DynamoDB left identity reads unprocessed; retry");
      for (const claim of data) owners.set(identifierKey(claim), claim.leadId);
      return owners;
    },

    async claim(identifier, leadId) {
      const created = await identity.create({ ...identifier, leadId, claimedAt: now() }).go(rejectQuietly);
      if (!created.rejected) return leadId;
      return ownerOf(entities, identifier);
    },

    async getLead(id) {
      const { data } = await lead.get({ leadId: id }).go({ consistent: true });
      return data ? toLead(data) : undefined;
    },

    async saveLead(next, expectedVersion) {
      const item = toLeadItem(next);
      const { id } = next;
      try {
        const result =
          expectedVersion === undefined
            ? await lead.create(item).go(rejectQuietly)
            : await lead
                .put(item)
                .where((attributes, { eq }) => eq(attributes.version, expectedVersion))
                .go(rejectQuietly);
        return !result.rejected;
      } catch (error) {
        if (/item size has exceeded/i.test(String((error as Error).message))) throw new LeadTooLargeError(id);
        throw error;
      }
    },

    async pinReceipt(delivery, leadId) {
      const { receivedAt, contentHash } = delivery;
      const pin = { leadId, applied: false, ...(contentHash ? { contentHash } : {}) };
      const created = await receipt.create({ ...receiptKey(delivery), receivedAt, ...pin }).go(rejectQuietly);
      if (!created.rejected) return pin;
      const pinned = await repository.findReceipt(delivery);
      if (pinned === undefined) throw new Error("A receipt vanished during a race; retry");
      return pinned;
    },

    async markReceiptApplied(delivery) {
      await receipt.patch(receiptKey(delivery)).set({ applied: true }).go({ response: "none" });
    },

    async recordHistory(entry) {
      const { id, ...fields } = entry;
      await history.put({ ...fields, entryId: id }).go({ response: "none" });
    },

    async clearPending(leadId, version) {
      await lead
        .update({ leadId })
        .remove(["pending"])
        .where((attributes, { eq }) => eq(attributes.version, version))
        .go(rejectQuietly);
    },

    async storeEvents(leadId, events) {
      const keys = events.map(({ id }) => ({ leadId, eventId: id }));
      const { data: found, unprocessed } = await event.get(keys).go({ consistent: true });
      if (unprocessed.length > 0) throw new Error("DynamoDB left event reads unprocessed; retry");
      const existing = new Map(found.map((item) => [item.eventId, toStoredEvent(item)]));
      return Promise.all(
        events.map(async (candidate): Promise<StoredEvent> => {
          const stored = existing.get(candidate.id);
          if (stored) return stored;
          const { id, properties, ...fields } = candidate;
          const created = await event
            .create({
              ...fields,
              properties: JSON.stringify(properties),
              leadId,
              eventId: id,
              storedAt: now(),
              applied: false,
            })
            .go(rejectQuietly);
          if (!created.rejected) return { event: candidate, applied: false };
          const { data } = await event.get({ leadId, eventId: id }).go({ consistent: true });
          if (!data) throw new Error("An event vanished during a race; retry");
          return toStoredEvent(data);
        }),
      );
    },

    async listEvents(leadId) {
      const { data } = await event.query.byLead({ leadId }).go({ pages: "all", consistent: true });
      return data.map(toStoredEvent);
    },

    async markEventsApplied(leadId, eventIds) {
      await Promise.all(eventIds.map((eventId) => event.patch({ leadId, eventId }).set({ applied: true }).go()));
    },
  };

  return {
    ...repository,

    /** The lead and its newest history entries, or undefined. */
    async getLeadWithHistory(id: string, historyLimit = 100) {
      const [found, entries] = await Promise.all([
        repository.getLead(id),
        history.query.byLead({ leadId: id }).go({ order: "desc", limit: historyLimit }),
      ]);
      if (!found) return undefined;
      return { lead: found, history: entries.data.map(toHistoryEntry) };
    },

    async leadExists(id: string): Promise<boolean> {
      const { data } = await lead.get({ leadId: id }).go({ attributes: ["leadId"], consistent: true });
      return data !== null;
    },

    async findLeadIdByEmail(email: string) {
      const { data } = await identity.get({ kind: "email", value: email }).go();
      return data?.leadId;
    },

    async findLeadIdByPhone(phone: string) {
      const { data } = await identity.get({ kind: "phone", value: phone }).go();
      return data?.leadId;
    },

    /**
     * Ids of leads whose temperature may have dropped by `now` (the cooling index, one shard per
     * query): what the daily refresh reads, never the whole table.
     */
    async *leadsCoolingBy(now: string, pageSize = 100): AsyncGenerator<string[]> {
      for (let shard = 0; shard < coolingShards; shard++) {
        let cursor: string | null = null;
        do {
          const page: { data: { leadId: string }[]; cursor: string | null } = await lead.query
            .byCoolingTime({ coolingShard: String(shard) })
            .lte({ coolsAt: now })
            .go({ cursor, limit: pageSize, attributes: ["leadId"] });
          if (page.data.length > 0) yield page.data.map((item) => item.leadId);
          cursor = page.cursor;
        } while (cursor);
      }
    },

    /**
     * Ids of leads cold since a time in (after, upTo] (the cold shards of the temperature index):
     * what nurture enrolment reads, the leads that crossed its line since it last looked.
     */
    async *coldLeads(after: string | undefined, upTo: string, pageSize = 100): AsyncGenerator<string[]> {
      for (let shard = 0; shard < coolingShards; shard++) {
        let cursor: string | null = null;
        do {
          const query = lead.query.byCoolingTime({ coolingShard: `cold-${shard}` });
          const range =
            after === undefined ? query.lte({ coolsAt: upTo }) : query.between({ coolsAt: after }, { coolsAt: upTo });
          const page: { data: { leadId: string; coolsAt?: string | undefined }[]; cursor: string | null } =
            await range.go({
              cursor,
              limit: pageSize,
              attributes: ["leadId", "coolsAt"],
            });
          // `between` includes `after`, which the previous look took.
          const ids = page.data.filter((item) => item.coolsAt !== after).map((item) => item.leadId);
          if (ids.length > 0) yield ids;
          cursor = page.cursor;
        } while (cursor);
      }
    },

    /** Ids of the leads a rep owns, by stage (all stages when none is given), oldest ownership first. */
    async leadsOwnedBy(owner: string, stage?: string): Promise<string[]> {
      const query = lead.query.byOwner(stage ? { owner, ownedStage: stage } : { owner });
      const { data } = await query.go({ pages: "all", attributes: ["leadId"] });
      return data.map((item) => item.leadId);
    },

    /** Every lead id, a page at a time (a Scan): for admin tools such as rescore, never a request. */
    async scanLeadIds(cursor: string | null, pageSize = 100) {
      const page = await lead.scan.go({ cursor, limit: pageSize, attributes: ["leadId"] });
      return { leadIds: page.data.map((item) => item.leadId), cursor: page.cursor };
    },
  };
}

/** Writes to the cooling index are spread over this many partitions. */
export const coolingShards = 8;

/**
 * Where the lead sits in the temperature index: a warm or hot lead by when it may cool (what the
 * daily refresh reads), a cold one in the cold shards by since when it is as it is, cold and at
 * its stage (what nurture enrolment reads: a cold lead that changes stage is looked at again).
 */
function temperatureIndexKeys(id: string, qualification: Qualification) {
  if (qualification.coolsAt) return { coolsAt: qualification.coolsAt, coolingShard: coolingShardOf(id) };
  if (qualification.temperature === "cold") {
    const times = [qualification.temperatureSince, qualification.stageSince].filter((time) => time !== undefined);
    const since = times.sort().at(-1) as string;
    return { coolsAt: since, coolingShard: `cold-${coolingShardOf(id)}` };
  }
  return {};
}

function coolingShardOf(leadId: string): string {
  let hash = 0;
  for (const char of leadId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return String(hash % coolingShards);
}

/**
 * The lead as an item: scoring's temperature, stage and cooling time are copied out for indexes.
 * Custom fields are kept as JSON text: their names are whatever a form sent, and the SDK's
 * marshaller would drop one named `__proto__`.
 */
function toLeadItem(next: Lead) {
  const { id, qualification, pending, custom, ...fields } = next;
  return {
    ...fields,
    custom: JSON.stringify(custom),
    leadId: id,
    ...(pending ? { pending } : {}),
    stage: qualification?.stage ?? "new",
    ...(next.owner ? { ownedStage: qualification?.stage ?? "new" } : {}),
    ...(qualification
      ? {
          qualification,
          temperature: qualification.temperature,
          ...temperatureIndexKeys(id, qualification),
        }
      : {}),
  };
}

function toLead(item: Record<string, unknown>): Lead {
  const {
    leadId,
    temperature: _temperature,
    stage: _stage,
    ownedStage: _ownedStage,
    coolsAt: _coolsAt,
    coolingShard: _shard,
    ...fields
  } = item;
  return { ...fields, custom: fieldsFrom(fields.custom), id: leadId } as Lead;
}

/** A record of client-named fields as stored: JSON text, or a map on items of earlier releases. */
function fieldsFrom(stored: unknown): Record<string, unknown> {
  const parsed = typeof stored === "string" ? (JSON.parse(stored) as unknown) : stored;
  return toFieldRecord(isPlainObject(parsed) ? parsed : {});
}

function receiptKey({ platformLeadId, ...delivery }: CaptureReceipt) {
  return { source: deliveryScope(delivery), platformLeadId };
}

function toPin(item: { leadId: string; applied?: boolean | undefined; contentHash?: string | undefined }): DeliveryPin {
  return {
    leadId: item.leadId,
    applied: item.applied === true,
    ...(item.contentHash ? { contentHash: item.contentHash } : {}),
  };
}

function toStoredEvent(item: {
  eventId: string;
  type: string;
  at: string;
  properties: unknown;
  applied?: boolean | undefined;
}): StoredEvent {
  const event: BehaviourEvent = {
    id: item.eventId,
    type: item.type,
    at: item.at,
    properties: fieldsFrom(item.properties),
  };
  // Events stored before the flag existed were applied in the delivery that stored them.
  return { event, applied: item.applied !== false };
}

export type LeadStore = ReturnType<typeof createLeadStore>;

/** The lead would pass DynamoDB's 400 KB item limit: no retry can store it, so it is dead-lettered. */
export class LeadTooLargeError extends Error {
  override readonly name = "LeadTooLargeError";
  readonly permanent = true;

  constructor(leadId: string) {
    super(`Lead ${leadId} would exceed DynamoDB's 400 KB item limit`);
  }
}

async function ownerOf({ identity }: Entities, identifier: Identifier): Promise<string> {
  const { data } = await identity.get(identifier).go({ consistent: true });
  if (!data) throw new Error(`Identity claim ${identifier.kind} vanished during a race; retry`);
  return data.leadId;
}

function toHistoryEntry(item: {
  leadId: string;
  at: string;
  entryId: string;
  type: string;
  summary: string;
  details: unknown;
}): HistoryEntry {
  const { entryId, ...fields } = item;
  return {
    ...fields,
    id: entryId,
    type: fields.type as HistoryEntry["type"],
    details: fields.details as HistoryEntry["details"],
  };
}
