import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { Entity } from "electrodb";
import { tableDefinition } from "./table.ts";

/** Every key of the table is built here, by ElectroDB, from these models. See docs/access-patterns.md. */

const service = "leadflow";
const { partitionKey: pk, sortKey: sk } = tableDefinition;
const { gsi1, gsi2 } = tableDefinition.globalIndexes;
/** Platform ids and emails are compared exactly as stored. */
const casing = "none";

const text = { type: "string" } as const;
const requiredText = { type: "string", required: true } as const;
const stringList = { type: "list", items: { type: "string" }, required: true } as const;

export function createEntities(client: DynamoDBClient, table: string) {
  const options = { client, table };

  const lead = new Entity(
    {
      model: { entity: "lead", version: "1", service },
      attributes: {
        leadId: { ...requiredText, readOnly: true },
        email: text,
        phone: text,
        emails: stringList,
        phones: stringList,
        firstName: text,
        lastName: text,
        company: text,
        jobTitle: text,
        country: text,
        region: text,
        city: text,
        postalCode: text,
        timezone: text,
        custom: { type: "any", required: true },
        consent: { type: "any", required: true },
        sources: { type: "any", required: true },
        sourceCount: { type: "number" },
        qualification: { type: "any" },
        pending: { type: "any" },
        temperature: text,
        stage: text,
        /** Who accepted the lead from a speed-to-lead alert, and when. */
        owner: text,
        ownerSince: text,
        /** The stage, copied for the owner index while the lead has an owner (absent otherwise). */
        ownedStage: text,
        /**
         * The temperature index's sort key: for a warm or hot lead, when its temperature drops next
         * if nothing happens (shards `0`-`7`); for a cold lead, since when it is cold (shards
         * `cold-0`-`cold-7`), which the nurture enrolment reads.
         */
        coolsAt: text,
        coolingShard: text,
        createdAt: requiredText,
        updatedAt: requiredText,
        version: { type: "number", required: true },
      },
      indexes: {
        byId: {
          pk: { field: pk, composite: ["leadId"], casing },
          sk: { field: sk, composite: [], casing },
        },
        /**
         * Sparse: scored leads, warm and hot ones by when they may cool, cold ones (apart) by when
         * they went cold; sharded to spread writes.
         */
        byCoolingTime: {
          index: "gsi1",
          condition: (attributes) => attributes.coolsAt !== undefined,
          pk: { field: gsi1.partitionKey, composite: ["coolingShard"], casing },
          sk: { field: gsi1.sortKey, composite: ["coolsAt"], casing },
        },
        /** Sparse: a rep's leads, by stage, then since when the rep owns them. */
        byOwner: {
          index: "gsi2",
          condition: (attributes) => attributes.owner !== undefined,
          pk: { field: gsi2.partitionKey, composite: ["owner"], casing },
          sk: { field: gsi2.sortKey, composite: ["ownedStage", "ownerSince"], casing },
        },
      },
    },
    options,
  );

  /** History lives in its lead's partition, sorted by time. */
  const history = new Entity(
    {
      model: { entity: "history", version: "1", service },
      attributes: {
        leadId: { ...requiredText, readOnly: true },
        at: { ...requiredText, readOnly: true },
        entryId: { ...requiredText, readOnly: true },
        type: requiredText,
        summary: requiredText,
        details: { type: "any", required: true },
      },
      indexes: {
        byLead: {
          pk: { field: pk, composite: ["leadId"], casing },
          sk: { field: sk, composite: ["at", "entryId"], casing },
        },
      },
    },
    options,
  );

  /** A behaviour event, in its lead's partition under the client's event id: a retry finds it. */
  const event = new Entity(
    {
      model: { entity: "event", version: "1", service },
      attributes: {
        leadId: { ...requiredText, readOnly: true },
        eventId: { ...requiredText, readOnly: true },
        type: { ...requiredText, readOnly: true },
        at: { ...requiredText, readOnly: true },
        properties: { type: "any", required: true, readOnly: true },
        storedAt: { ...requiredText, readOnly: true },
        /** False until the event is folded into the lead's score (see recordEvents); absent means applied. */
        applied: { type: "boolean" },
      },
      indexes: {
        byLead: {
          pk: { field: pk, composite: ["leadId"], casing },
          sk: { field: sk, composite: ["eventId"], casing },
        },
      },
    },
    options,
  );

  /** Uniqueness claim: one item per email or phone, naming the lead that owns it. */
  const identity = new Entity(
    {
      model: { entity: "identity", version: "1", service },
      attributes: {
        kind: { type: ["email", "phone"] as const, required: true, readOnly: true },
        value: { ...requiredText, readOnly: true },
        leadId: requiredText,
        claimedAt: requiredText,
      },
      indexes: {
        byValue: {
          pk: { field: pk, composite: ["kind", "value"], casing },
          sk: { field: sk, composite: [], casing },
        },
      },
    },
    options,
  );

  /**
   * One item per platform delivery that has been stored: (scope, platform lead id) -> lead. The
   * `source` key attribute holds the delivery's scope, which is its source unless sources share
   * one sender's ids (see `deliveryScope`).
   */
  const receipt = new Entity(
    {
      model: { entity: "receipt", version: "1", service },
      attributes: {
        source: { ...requiredText, readOnly: true },
        platformLeadId: { ...requiredText, readOnly: true },
        leadId: requiredText,
        receivedAt: requiredText,
        /** Set once the delivery is on its lead and its history written; absent on older pins. */
        applied: { type: "boolean" },
        /** A digest of the delivery's content, to tell a repeat whose content changed. */
        contentHash: text,
      },
      indexes: {
        byDelivery: {
          pk: { field: pk, composite: ["source", "platformLeadId"], casing },
          sk: { field: sk, composite: [], casing },
        },
      },
    },
    options,
  );

  /**
   * One item per outbound message id: claimed (`sending`, until `claimedUntil`) before the message
   * is sent, `sent` after, `failed` when a send failed and the claim was given up. A message whose
   * id is `sent` is never sent again (see outbound.ts).
   */
  const outboundMessage = new Entity(
    {
      model: { entity: "outboundMessage", version: "1", service },
      attributes: {
        messageId: { ...requiredText, readOnly: true },
        channel: { type: ["email", "sms"] as const, required: true },
        purpose: requiredText,
        leadId: text,
        state: { type: ["sending", "sent", "failed"] as const, required: true },
        claimToken: requiredText,
        claimedUntil: requiredText,
        sentAt: text,
        providerMessageId: text,
        /** The error name of the last failed send (never its text, which may quote an address). */
        lastError: text,
      },
      indexes: {
        byId: {
          pk: { field: pk, composite: ["messageId"], casing },
          sk: { field: sk, composite: [], casing },
        },
      },
    },
    options,
  );

  return { lead, history, event, identity, receipt, outboundMessage };
}

export type Entities = ReturnType<typeof createEntities>;
