import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type Alert, type AlertStatus, alertStatuses, type Escalation, type SpeedToLeadStore } from "@leadflow/core";
import { Entity } from "electrodb";
import { tableDefinition } from "./table.ts";

/** Speed-to-lead in the single table: escalations, alerts, routing cursors, reps' daily counts. */

const service = "leadflow";
const casing = "none";
const { partitionKey: pk, sortKey: sk } = tableDefinition;
const { gsi1, gsi2 } = tableDefinition.globalIndexes;
const text = { type: "string" } as const;
const requiredText = { type: "string", required: true } as const;
const pendingStatuses: readonly AlertStatus[] = ["held", "waiting"];
/** Pending alerts are spread over this many index partitions. */
const pendingShards = 4;

export function createRoutingEntities(client: DynamoDBClient, table: string) {
  const options = { client, table };

  /** A lead's speed-to-lead run, in the lead's partition: at most one per lead. */
  const escalation = new Entity(
    {
      model: { entity: "escalation", version: "1", service },
      attributes: {
        leadId: { ...requiredText, readOnly: true },
        escalationId: requiredText,
        status: requiredText,
        trigger: { type: "any", required: true },
        team: requiredText,
        tried: { type: "list", items: { type: "string" }, required: true },
        current: { type: "any" },
        outcome: text,
        version: { type: "number", required: true },
        /** Set only while running: its key in the index a restart resumes from. */
        runningShard: text,
      },
      indexes: {
        byLead: { pk: { field: pk, composite: ["leadId"], casing }, sk: { field: sk, composite: [], casing } },
        running: {
          index: "gsi1",
          condition: (attributes) => attributes.runningShard !== undefined,
          pk: { field: gsi1.partitionKey, composite: ["runningShard"], casing },
          sk: { field: gsi1.sortKey, composite: [], casing },
        },
      },
    },
    options,
  );

  /**
   * An alert, keyed by its link's token. While held or waiting it is in the pending index, by
   * deadline (a restart resumes those); every alert is in its month's partition of gsi2, by
   * time sent (the report).
   */
  const alert = new Entity(
    {
      model: { entity: "alert", version: "1", service },
      attributes: {
        token: { ...requiredText, readOnly: true },
        alertId: requiredText,
        escalationId: requiredText,
        leadId: requiredText,
        team: requiredText,
        tier: { type: "number", required: true },
        role: { type: ["rep", "manager"] as const, required: true },
        recipient: { type: "any", required: true },
        status: { type: alertStatuses, required: true },
        triggeredAt: requiredText,
        sentAt: requiredText,
        sentMonth: requiredText,
        startsAt: requiredText,
        deadline: requiredText,
        answeredAt: text,
        taskToken: text,
        /** Set only while the alert is held or waiting: its keys in the pending index. */
        pendingShard: text,
        pendingDeadline: text,
      },
      indexes: {
        byToken: { pk: { field: pk, composite: ["token"], casing }, sk: { field: sk, composite: [], casing } },
        pendingByDeadline: {
          index: "gsi1",
          condition: (attributes) => attributes.pendingShard !== undefined,
          pk: { field: gsi1.partitionKey, composite: ["pendingShard"], casing },
          sk: { field: gsi1.sortKey, composite: ["pendingDeadline"], casing },
        },
        byMonthSent: {
          index: "gsi2",
          pk: { field: gsi2.partitionKey, composite: ["sentMonth"], casing },
          sk: { field: gsi2.sortKey, composite: ["sentAt"], casing },
        },
      },
    },
    options,
  );

  /** A team's round-robin position: slots taken so far. */
  const cursor = new Entity(
    {
      model: { entity: "cursor", version: "1", service },
      attributes: {
        team: { ...requiredText, readOnly: true },
        position: { type: "number", required: true },
      },
      indexes: {
        byTeam: { pk: { field: pk, composite: ["team"], casing }, sk: { field: sk, composite: [], casing } },
      },
    },
    options,
  );

  /** Leads alerted to one rep on one day of the rep's calendar. */
  const repDay = new Entity(
    {
      model: { entity: "repDay", version: "1", service },
      attributes: {
        team: { ...requiredText, readOnly: true },
        rep: { ...requiredText, readOnly: true },
        date: { ...requiredText, readOnly: true },
        count: { type: "number" },
      },
      indexes: {
        byRepDay: {
          pk: { field: pk, composite: ["team", "rep", "date"], casing },
          sk: { field: sk, composite: [], casing },
        },
      },
    },
    options,
  );

  return { escalation, alert, cursor, repDay };
}

const quietly = { response: "none", returnOnConditionCheckFailure: true } as const;

export function createRoutingStore({ client, tableName }: { client: DynamoDBClient; tableName: string }) {
  const { escalation, alert, cursor, repDay } = createRoutingEntities(client, tableName);

  const store: Omit<SpeedToLeadStore, "recordHistory"> = {
    cursors: {
      async take(team) {
        const { data } = await cursor.update({ team }).add({ position: 1 }).go({ response: "updated_new" });
        return (data.position as number) - 1;
      },
    },
    dailyCounts: {
      async take(team, rep, date, cap) {
        const result = await repDay
          .update({ team, rep, date })
          .add({ count: 1 })
          .where((attributes, { notExists, lt }) => `${notExists(attributes.count)} OR ${lt(attributes.count, cap)}`)
          .go(quietly);
        return !result.rejected;
      },
    },

    async getEscalation(leadId) {
      const { data } = await escalation.get({ leadId }).go({ consistent: true });
      return data ? toEscalation(data) : undefined;
    },

    async saveEscalation(next, expectedVersion) {
      const running = next.status === "running" ? { runningShard: String(shardOf(next.leadId)) } : {};
      const item = withoutUndefined({ ...next, ...running });
      const result =
        expectedVersion === undefined
          ? await escalation.create(item).go(quietly)
          : await escalation
              .put(item)
              .where((attributes, { eq }) => eq(attributes.version, expectedVersion))
              .go(quietly);
      return !result.rejected;
    },

    async createAlert(created) {
      await alert.create(toAlertItem(created)).go(quietly);
    },

    async getAlert(token) {
      const { data } = await alert.get({ token }).go({ consistent: true });
      return data ? toAlert(data) : undefined;
    },

    async moveAlert(token, from, to, fields = {}) {
      for (;;) {
        const current = await store.getAlert(token);
        if (!current || !from.includes(current.status)) return undefined;
        const moved: Alert = { ...current, ...fields, status: to };
        const result = await alert
          .put(toAlertItem(moved))
          .where((attributes, { eq }) => eq(attributes.status, current.status))
          .go(quietly);
        if (!result.rejected) return moved;
      }
    },

    async keepTaskToken(token, taskToken) {
      const { data } = await alert
        .patch({ token })
        .set({ taskToken })
        .go({ response: "all_new" })
        .catch((error: Error) => {
          if (/conditional/i.test(error.message)) return { data: undefined };
          throw error;
        });
      return data ? toAlert(data) : undefined;
    },
  };

  return {
    ...store,

    /** Escalations still running: what a restart of npm start resumes. */
    async runningEscalations(): Promise<Escalation[]> {
      const shards = await Promise.all(
        Array.from({ length: pendingShards }, (_, shard) =>
          escalation.query.running({ runningShard: String(shard) }).go({ pages: "all" }),
        ),
      );
      return shards.flatMap(({ data }) => data.map(toEscalation));
    },

    /** Alerts held or waiting, soonest deadline first. */
    async pendingAlerts(): Promise<Alert[]> {
      const shards = await Promise.all(
        Array.from({ length: pendingShards }, (_, shard) =>
          alert.query.pendingByDeadline({ pendingShard: String(shard) }).go({ pages: "all" }),
        ),
      );
      return shards.flatMap(({ data }) => data.map(toAlert)).sort((a, b) => a.deadline.localeCompare(b.deadline));
    },

    /** Alerts sent in [from, to): one query per month of the period. */
    async alertsSent(from: Date, to: Date): Promise<Alert[]> {
      const months = monthsBetween(from, to);
      const pages = await Promise.all(
        months.map((month) =>
          alert.query
            .byMonthSent({ sentMonth: month })
            .between({ sentAt: from.toISOString() }, { sentAt: to.toISOString() })
            .go({ pages: "all" }),
        ),
      );
      return pages.flatMap(({ data }) => data.map(toAlert));
    },
  };
}

export type RoutingStore = ReturnType<typeof createRoutingStore>;

function toAlertItem(value: Alert) {
  const pending = pendingStatuses.includes(value.status);
  return withoutUndefined({
    ...value,
    sentMonth: value.sentAt.slice(0, 7),
    ...(pending ? { pendingShard: String(shardOf(value.token)), pendingDeadline: value.deadline } : {}),
  });
}

function toEscalation(item: Record<string, unknown>): Escalation {
  const { runningShard: _shard, ...fields } = item;
  return fields as unknown as Escalation;
}

function toAlert(item: Record<string, unknown>): Alert {
  const { sentMonth: _month, pendingShard: _shard, pendingDeadline: _deadline, ...fields } = item;
  return fields as unknown as Alert;
}

function shardOf(token: string): number {
  let hash = 0;
  for (const char of token) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % pendingShards;
}

function monthsBetween(from: Date, to: Date): string[] {
  const months: string[] = [];
  const cursorDate = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1));
  while (cursorDate < to) {
    months.push(cursorDate.toISOString().slice(0, 7));
    cursorDate.setUTCMonth(cursorDate.getUTCMonth() + 1);
  }
  return months;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
