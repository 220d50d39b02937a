import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { HistoryEntry, Identifier, Lead, LeadRepository } from "@leadflow/core";
import { identifierKey } from "@leadflow/core";
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
  const { lead, history, identity, receipt } = entities;

  const repository: LeadRepository = {
    async findReceipt({ source, platformLeadId }) {
      const { data } = await receipt.get({ source, platformLeadId }).go({ consistent: true });
      return data?.leadId;
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
      if (!data) return undefined;
      const { leadId, ...fields } = data;
      return { ...fields, id: leadId } as Lead;
    },

    async saveLead(next, expectedVersion) {
      const { id, ...fields } = next;
      const item = { ...fields, leadId: id };
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

    async pinReceipt({ source, platformLeadId, receivedAt }, leadId) {
      const created = await receipt.create({ source, platformLeadId, receivedAt, leadId }).go(rejectQuietly);
      if (!created.rejected) return leadId;
      const pinned = await repository.findReceipt({ source, platformLeadId });
      if (pinned === undefined) throw new Error("A receipt vanished during a race; retry");
      return pinned;
    },

    async recordHistory(entry) {
      const { id, ...fields } = entry;
      await history.put({ ...fields, entryId: id }).go({ response: "none" });
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

    async findLeadIdByEmail(email: string) {
      const { data } = await identity.get({ kind: "email", value: email }).go();
      return data?.leadId;
    },

    async findLeadIdByPhone(phone: string) {
      const { data } = await identity.get({ kind: "phone", value: phone }).go();
      return data?.leadId;
    },
  };
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
