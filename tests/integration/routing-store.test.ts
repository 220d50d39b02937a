import { randomUUID } from "node:crypto";
import { type Alert, applyCapture, type Escalation } from "@leadflow/core";
import { dynamoClient } from "@leadflow/local";
import { createLeadStore, createRoutingStore, type LeadStore, type RoutingStore } from "@leadflow/store";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { freshTable } from "../helpers/tables.ts";

const engines = inject("emulators").dynamodb;

function alertOf(overrides: Partial<Alert> = {}): Alert {
  const token = randomUUID();
  return {
    token,
    alertId: token.slice(0, 16),
    escalationId: "esc-1",
    leadId: "lead-1",
    team: "sales",
    tier: 1,
    role: "rep",
    recipient: { id: "ana", name: "Ana", email: "ana@example.com", phone: "+14155550101" },
    status: "waiting",
    triggeredAt: "2026-11-24T10:00:00.000Z",
    sentAt: "2026-11-24T10:00:01.000Z",
    startsAt: "2026-11-24T10:00:01.000Z",
    deadline: "2026-11-24T10:05:01.000Z",
    ...overrides,
  };
}

describe.each(engines)("speed-to-lead in the table, on $name", ({ endpoint }) => {
  let routing: RoutingStore;
  let leads: LeadStore;

  beforeAll(async () => {
    const client = dynamoClient(endpoint);
    const tableName = await freshTable(client);
    routing = createRoutingStore({ client, tableName });
    leads = createLeadStore({ client, tableName });
  });

  it("gives each of racing routings a slot of its own from a team's cursor, counting from 0", async () => {
    const team = `team-${randomUUID()}`;
    const slots = await Promise.all(Array.from({ length: 8 }, () => routing.cursors.take(team)));
    expect([...slots].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await routing.cursors.take(team)).toBe(8);
    expect(await routing.cursors.take(`team-${randomUUID()}`)).toBe(0);
  });

  it("counts a rep's leads of a day up to the cap, even when racing", async () => {
    const rep = `rep-${randomUUID()}`;
    const taken = await Promise.all(
      Array.from({ length: 10 }, () => routing.dailyCounts.take("sales", rep, "2026-11-24", 3)),
    );
    expect(taken.filter(Boolean)).toHaveLength(3);
    expect(await routing.dailyCounts.take("sales", rep, "2026-11-25", 3)).toBe(true);
  });

  it("creates a lead's escalation once, and replaces it only at the version read", async () => {
    const leadId = randomUUID();
    const escalation: Escalation = {
      leadId,
      escalationId: "esc-1",
      status: "running",
      trigger: { id: "e1", type: "lead.hot", at: "2026-11-24T10:00:00.000Z" },
      team: "sales",
      tried: [],
      version: 1,
    };
    expect(await routing.saveEscalation(escalation, undefined)).toBe(true);
    expect(await routing.saveEscalation({ ...escalation, escalationId: "esc-2" }, undefined)).toBe(false);
    const next = { ...escalation, tried: ["ana"], current: { tier: 1, token: "t" }, version: 2 };
    expect(await routing.saveEscalation(next, 1)).toBe(true);
    expect(await routing.saveEscalation({ ...next, version: 3 }, 1)).toBe(false);
    expect(await routing.getEscalation(leadId)).toEqual(next);
    expect((await routing.runningEscalations()).map((running) => running.leadId)).toContain(leadId);
    expect(await routing.saveEscalation({ ...next, status: "done", outcome: "accepted", version: 3 }, 2)).toBe(true);
    expect((await routing.runningEscalations()).map((running) => running.leadId)).not.toContain(leadId);
  });

  it("moves an alert from one status to the next once, keeps the task token, and lists what is pending", async () => {
    const alert = alertOf({ deadline: "2000-01-01T00:05:00.000Z" });
    await routing.createAlert(alert);
    await routing.createAlert({ ...alert, status: "accepted" });
    expect((await routing.getAlert(alert.token))?.status).toBe("waiting");
    expect((await routing.pendingAlerts()).map(({ token }) => token)).toContain(alert.token);
    expect(await routing.keepTaskToken(alert.token, "task-1")).toMatchObject({ taskToken: "task-1" });
    const moves = await Promise.all(
      Array.from({ length: 5 }, () => routing.moveAlert(alert.token, ["waiting"], "accepted", { answeredAt: "x" })),
    );
    expect(moves.filter(Boolean)).toHaveLength(1);
    expect(await routing.getAlert(alert.token)).toMatchObject({ status: "accepted", taskToken: "task-1" });
    expect((await routing.pendingAlerts()).map(({ token }) => token)).not.toContain(alert.token);
    expect(await routing.keepTaskToken("no-such-token", "task-2")).toBeUndefined();
  });

  it("finds the alerts sent in a period, across months", async () => {
    const team = `team-${randomUUID()}`;
    const sent = ["2026-10-31T23:00:00.000Z", "2026-11-02T09:00:00.000Z", "2026-12-01T00:00:00.000Z"];
    for (const sentAt of sent) await routing.createAlert(alertOf({ team, sentAt }));
    const found = await routing.alertsSent(new Date("2026-10-31T00:00:00Z"), new Date("2026-12-01T00:00:00Z"));
    expect(
      found
        .filter((alert) => alert.team === team)
        .map(({ sentAt }) => sentAt)
        .sort(),
    ).toEqual(sent.slice(0, 2));
  });

  it("lists a rep's leads by stage through the owner index", async () => {
    const owner = `rep-${randomUUID()}`;
    const { lead } = applyCapture(undefined, capture(), { leadId: randomUUID(), now: new Date().toISOString() });
    await leads.saveLead({ ...lead, owner, ownerSince: "2026-11-24T10:00:00.000Z" }, undefined);
    expect(await leads.leadsOwnedBy(owner)).toEqual([lead.id]);
    expect(await leads.leadsOwnedBy(owner, "new")).toEqual([lead.id]);
    expect(await leads.leadsOwnedBy(owner, "customer")).toEqual([]);
  });
});
