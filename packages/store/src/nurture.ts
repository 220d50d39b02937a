import { randomBytes } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { CompiledSequence, ContactLog, DueStep, Enrolment, NurtureStore, Suppression } from "@leadflow/core";
import { Entity } from "electrodb";
import { tableDefinition } from "./table.ts";

/**
 * Nurture in the single table: enrolments (in their lead's partition, in the due index while
 * active), the compiled sequence versions leads started, each sequence's enrolment cursor, the
 * suppression list, each lead's contact log (the caps) and unsubscribe tokens.
 */

const service = "leadflow";
const casing = "none";
const { partitionKey: pk, sortKey: sk } = tableDefinition;
const { gsi1 } = tableDefinition.globalIndexes;
const text = { type: "string" } as const;
const requiredText = { type: "string", required: true } as const;
/** Due enrolments are spread over this many index partitions. */
export const dueShards = 8;
/** Contacts older than this no longer count for any cap (a week, and a day for time zones). */
const contactLogDays = 8;

export function createNurtureEntities(client: DynamoDBClient, table: string) {
  const options = { client, table };

  const enrolment = new Entity(
    {
      model: { entity: "enrolment", version: "1", service },
      attributes: {
        leadId: { ...requiredText, readOnly: true },
        sequenceId: { ...requiredText, readOnly: true },
        enrolmentId: requiredText,
        digest: requiredText,
        label: text,
        status: { type: ["active", "completed", "exited", "failed"] as const, required: true },
        stepIndex: { type: "number", required: true },
        dueAt: text,
        enrolledAt: requiredText,
        endedAt: text,
        exitReason: text,
        sent: { type: "any", required: true },
        deferredBy: text,
        attempts: { type: "number" },
        version: { type: "number", required: true },
        /** Set only while it has a due time (a step, or a re-entry): its partition of the due index. */
        dueShard: text,
      },
      indexes: {
        byLead: {
          pk: { field: pk, composite: ["leadId"], casing },
          sk: { field: sk, composite: ["sequenceId"], casing },
        },
        /** Sparse: only active enrolments, by when their next step is due. */
        due: {
          index: "gsi1",
          condition: (attributes) => attributes.dueShard !== undefined,
          pk: { field: gsi1.partitionKey, composite: ["dueShard"], casing },
          sk: { field: gsi1.sortKey, composite: ["dueAt"], casing },
        },
      },
    },
    options,
  );

  /** A compiled sequence as leads started it: content-addressed, written once per version. */
  const sequenceVersion = new Entity(
    {
      model: { entity: "sequenceVersion", version: "1", service },
      attributes: {
        sequenceId: { ...requiredText, readOnly: true },
        digest: { ...requiredText, readOnly: true },
        definition: requiredText,
        keptAt: requiredText,
      },
      indexes: {
        byDigest: {
          pk: { field: pk, composite: ["sequenceId", "digest"], casing },
          sk: { field: sk, composite: [], casing },
        },
      },
    },
    options,
  );

  const enrolCursor = new Entity(
    {
      model: { entity: "enrolCursor", version: "1", service },
      attributes: { sequenceId: { ...requiredText, readOnly: true }, coldUntil: requiredText },
      indexes: {
        bySequence: {
          pk: { field: pk, composite: ["sequenceId"], casing },
          sk: { field: sk, composite: [], casing },
        },
      },
    },
    options,
  );

  const suppression = new Entity(
    {
      model: { entity: "suppression", version: "1", service },
      attributes: {
        channel: { type: ["email", "sms"] as const, required: true, readOnly: true },
        address: { ...requiredText, readOnly: true },
        reason: { type: ["unsubscribe", "complaint", "bounce", "stop"] as const, required: true },
        at: requiredText,
        leadId: text,
      },
      indexes: {
        byAddress: {
          pk: { field: pk, composite: ["channel", "address"], casing },
          sk: { field: sk, composite: [], casing },
        },
      },
    },
    options,
  );

  /** Every nurture message sent to a lead lately, in the lead's partition: what the caps count. */
  const contactLog = new Entity(
    {
      model: { entity: "contactLog", version: "1", service },
      attributes: {
        leadId: { ...requiredText, readOnly: true },
        contacts: { type: "any", required: true },
        version: { type: "number", required: true },
      },
      indexes: {
        byLead: { pk: { field: pk, composite: ["leadId"], casing }, sk: { field: sk, composite: [], casing } },
      },
    },
    options,
  );

  /** An unsubscribe link's token → the lead and the address it unsubscribes. */
  const unsubscribeToken = new Entity(
    {
      model: { entity: "unsubscribeToken", version: "1", service },
      attributes: {
        token: { ...requiredText, readOnly: true },
        leadId: requiredText,
        email: requiredText,
        createdAt: requiredText,
      },
      indexes: {
        byToken: { pk: { field: pk, composite: ["token"], casing }, sk: { field: sk, composite: [], casing } },
      },
    },
    options,
  );

  return { enrolment, sequenceVersion, enrolCursor, suppression, contactLog, unsubscribeToken };
}

const quietly = { response: "none", returnOnConditionCheckFailure: true } as const;

export function createNurtureStore({ client, tableName }: { client: DynamoDBClient; tableName: string }) {
  const entities = createNurtureEntities(client, tableName);
  const { enrolment, sequenceVersion, enrolCursor, suppression, contactLog, unsubscribeToken } = entities;

  const store: NurtureStore = {
    async getEnrolment(leadId, sequenceId) {
      const { data } = await enrolment.get({ leadId, sequenceId }).go({ consistent: true });
      return data ? toEnrolment(data) : undefined;
    },

    async saveEnrolment(next, expectedVersion) {
      const item = toEnrolmentItem(next);
      const result =
        expectedVersion === undefined
          ? await enrolment.create(item).go(quietly)
          : await enrolment
              .put(item)
              .where((attributes, { eq }) => eq(attributes.version, expectedVersion))
              .go(quietly);
      return !result.rejected;
    },

    async enrolmentsOf(leadId) {
      const { data } = await enrolment.query.byLead({ leadId }).go({ pages: "all" });
      return data.map(toEnrolment);
    },

    async keepSequence(sequence) {
      await sequenceVersion
        .put({
          sequenceId: sequence.id,
          digest: sequence.digest,
          definition: JSON.stringify(sequence),
          keptAt: new Date().toISOString(),
        })
        .go({ response: "none" });
    },

    async getSequence(sequenceId, digest) {
      const { data } = await sequenceVersion.get({ sequenceId, digest }).go();
      return data ? (JSON.parse(data.definition) as CompiledSequence) : undefined;
    },

    async enrolCursor(sequenceId) {
      const { data } = await enrolCursor.get({ sequenceId }).go({ consistent: true });
      return data?.coldUntil;
    },

    async setEnrolCursor(sequenceId, coldUntil) {
      await enrolCursor.put({ sequenceId, coldUntil }).go({ response: "none" });
    },

    async *dueSteps(upTo, pageSize = 100) {
      for (let shard = 0; shard < dueShards; shard++) {
        let cursor: string | null = null;
        do {
          const page: { data: Record<string, unknown>[]; cursor: string | null } = await enrolment.query
            .due({ dueShard: String(shard) })
            .lte({ dueAt: upTo })
            .go({ cursor, limit: pageSize });
          if (page.data.length > 0) yield page.data.map((item) => toDueStep(toEnrolment(item)));
          cursor = page.cursor;
        } while (cursor);
      }
    },

    async suppression(channel, address) {
      const { data } = await suppression.get({ channel, address }).go({ consistent: true });
      return data ? (withoutUndefined(data) as Suppression) : undefined;
    },

    async suppress(entry) {
      await suppression.put(withoutUndefined(entry)).go({ response: "none" });
    },

    async liftSuppression(channel, address, reasons) {
      await suppression
        .delete({ channel, address })
        .where((attributes, { eq }) => reasons.map((reason) => eq(attributes.reason, reason)).join(" OR "))
        .go(quietly);
    },

    async contactLog(leadId) {
      const { data } = await contactLog.get({ leadId }).go({ consistent: true });
      return data
        ? { contacts: data.contacts as ContactLog["contacts"], version: data.version }
        : { contacts: [], version: 0 };
    },

    async recordContact(leadId, contact, log) {
      const horizon = Date.parse(contact.at) - contactLogDays * 86_400_000;
      const contacts = [...log.contacts.filter((earlier) => Date.parse(earlier.at) >= horizon), contact];
      const item = { leadId, contacts, version: log.version + 1 };
      const result =
        log.version === 0
          ? await contactLog.create(item).go(quietly)
          : await contactLog
              .put(item)
              .where((attributes, { eq }) => eq(attributes.version, log.version))
              .go(quietly);
      return !result.rejected;
    },

    /** A fresh unsubscribe token for this address of the lead (128 random bits). */
    async createUnsubscribeToken(leadId, email, createdAt) {
      const token = randomBytes(16).toString("base64url");
      await unsubscribeToken.create({ token, leadId, email, createdAt }).go({ response: "none" });
      return token;
    },

    async findUnsubscribeToken(token) {
      const { data } = await unsubscribeToken.get({ token }).go();
      return data ? { leadId: data.leadId, email: data.email } : undefined;
    },
  };

  return store;
}

export type NurtureTableStore = ReturnType<typeof createNurtureStore>;

function toEnrolmentItem(value: Enrolment) {
  return withoutUndefined({
    ...value,
    // Active runs by their next step; ended ones while their re-entry is pending.
    ...(value.dueAt ? { dueShard: String(shardOf(value.leadId)) } : {}),
  });
}

function toEnrolment(item: Record<string, unknown>): Enrolment {
  const { dueShard: _shard, ...fields } = withoutUndefined(item);
  return fields as unknown as Enrolment;
}

function toDueStep(value: Enrolment): DueStep {
  return {
    leadId: value.leadId,
    sequenceId: value.sequenceId,
    enrolmentId: value.enrolmentId,
    stepIndex: value.stepIndex,
    dueAt: value.dueAt as string,
  };
}

function shardOf(leadId: string): number {
  let hash = 0;
  for (const char of leadId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % dueShards;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
