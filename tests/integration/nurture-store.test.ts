import { randomUUID } from "node:crypto";
import { applyCapture, type CompiledSequence, type Enrolment, type Lead } from "@leadflow/core";
import { dynamoClient } from "@leadflow/local";
import { createLeadStore, createNurtureStore, type LeadStore, type NurtureTableStore } from "@leadflow/store";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { freshTable } from "../helpers/tables.ts";

const engines = inject("emulators").dynamodb;

function enrolmentOf(overrides: Partial<Enrolment> = {}): Enrolment {
  return {
    leadId: randomUUID(),
    sequenceId: "reactivation",
    enrolmentId: randomUUID(),
    digest: "d1",
    status: "active",
    stepIndex: 0,
    dueAt: "2026-12-02T15:00:00.000Z",
    enrolledAt: "2026-12-02T15:00:00.000Z",
    sent: [],
    version: 1,
    ...overrides,
  };
}

/** A stored lead whose temperature is `temperature` since `since`. */
function scoredLead(temperature: "cold" | "warm", since: string, coolsAt?: string, stageSince = since): Lead {
  const { lead } = applyCapture(undefined, capture(), { leadId: randomUUID(), now: since });
  const qualification = {
    temperature,
    temperatureSince: since,
    stage: "new",
    stageSince,
    ...(coolsAt ? { coolsAt } : {}),
  } as unknown as Lead["qualification"];
  return { ...lead, qualification } as Lead;
}

describe.each(engines)("nurture in the table, on $name", ({ endpoint }) => {
  let nurture: NurtureTableStore;
  let leads: LeadStore;

  beforeAll(async () => {
    const client = dynamoClient(endpoint);
    const tableName = await freshTable(client);
    nurture = createNurtureStore({ client, tableName });
    leads = createLeadStore({ client, tableName });
  });

  it("creates an enrolment once and replaces it only at the version read", async () => {
    const enrolment = enrolmentOf();
    expect(await nurture.saveEnrolment(enrolment, undefined)).toBe(true);
    expect(await nurture.saveEnrolment(enrolment, undefined)).toBe(false);
    const moved = { ...enrolment, stepIndex: 1, version: 2 };
    expect(await nurture.saveEnrolment(moved, 1)).toBe(true);
    expect(await nurture.saveEnrolment({ ...moved, stepIndex: 5, version: 2 }, 1)).toBe(false);
    expect(await nurture.getEnrolment(enrolment.leadId, "reactivation")).toEqual(moved);
    expect(await nurture.enrolmentsOf(enrolment.leadId)).toEqual([moved]);
  });

  it("reads only the active enrolments due by a time from the due index", async () => {
    const due = enrolmentOf({ dueAt: "2026-12-01T00:00:00.000Z" });
    const later = enrolmentOf({ dueAt: "2027-01-01T00:00:00.000Z" });
    const { dueAt: _dueAt, ...ended } = enrolmentOf({ status: "completed", endedAt: "2026-11-01T00:00:00.000Z" });
    for (const item of [due, later, ended]) await nurture.saveEnrolment(item, undefined);
    const found = [];
    for await (const page of nurture.dueSteps("2026-12-01T12:00:00.000Z")) found.push(...page);
    expect(found.map((step) => step.leadId)).toContain(due.leadId);
    expect(found.map((step) => step.leadId)).not.toContain(later.leadId);
    expect(found.map((step) => step.leadId)).not.toContain(ended.leadId);
    expect(found.find((step) => step.leadId === due.leadId)).toEqual({
      leadId: due.leadId,
      sequenceId: "reactivation",
      enrolmentId: due.enrolmentId,
      stepIndex: 0,
      dueAt: due.dueAt,
    });
    // Once it ends, it leaves the index.
    const { dueAt: _was, ...completed } = { ...due, status: "completed" as const, version: 2 };
    await nurture.saveEnrolment(completed, 1);
    const after = [];
    for await (const page of nurture.dueSteps("2026-12-01T12:00:00.000Z")) after.push(...page);
    expect(after.map((step) => step.leadId)).not.toContain(due.leadId);
  });

  it("finds cold leads by when they turned cold, apart from the leads that may cool", async () => {
    const early = scoredLead("cold", "2026-11-01T00:00:00.000Z");
    const recent = scoredLead("cold", "2026-11-20T00:00:00.000Z");
    const warm = scoredLead("warm", "2026-11-01T00:00:00.000Z", "2026-11-05T00:00:00.000Z");
    // Cold since November 1st, information-qualified on the 21st: read again from then.
    const restaged = scoredLead("cold", "2026-11-01T00:00:00.000Z", undefined, "2026-11-21T00:00:00.000Z");
    for (const lead of [early, recent, warm, restaged]) await leads.saveLead(lead, undefined);
    const read = async (after: string | undefined, upTo: string) => {
      const ids: string[] = [];
      for await (const page of leads.coldLeads(after, upTo)) ids.push(...page);
      return ids;
    };
    expect(await read(undefined, "2026-11-10T00:00:00.000Z")).toEqual([early.id]);
    expect((await read("2026-11-10T00:00:00.000Z", "2026-11-25T00:00:00.000Z")).sort()).toEqual(
      [recent.id, restaged.id].sort(),
    );
    // The bound already looked at is not read again.
    expect(await read("2026-11-21T00:00:00.000Z", "2026-11-25T00:00:00.000Z")).toEqual([]);
    const cooling: string[] = [];
    for await (const page of leads.leadsCoolingBy("2026-11-10T00:00:00.000Z")) cooling.push(...page);
    expect(cooling).toEqual([warm.id]);
  });

  it("keeps a compiled sequence under (id, digest) and reads it back as it was", async () => {
    const sequence = {
      id: "reactivation",
      digest: randomUUID(),
      entry: { temperatures: ["cold"], coldForDays: 14, stages: [] },
      reentry: "never",
      window: { days: [1, 2, 3, 4, 5], from: 540, to: 1020 },
      caps: { perDay: 1 },
      from: { email: "Acme <hello@acme.example>" },
      exit: ["unsubscribed", "bounced"],
      steps: [{ id: "step-1", kind: "email", subject: "Hi", template: "a.liquid", body: "Hi {{ lead.firstName }}" }],
    } satisfies CompiledSequence;
    await nurture.keepSequence(sequence);
    expect(await nurture.getSequence("reactivation", sequence.digest)).toEqual(sequence);
    expect(await nurture.getSequence("reactivation", "other")).toBeUndefined();
  });

  it("lets one of two racing sends write the contact log at the version read", async () => {
    const leadId = randomUUID();
    const log = await nurture.contactLog(leadId);
    const results = await Promise.all(
      ["m1", "m2"].map((messageId) =>
        nurture.recordContact(leadId, { messageId, at: "2026-12-02T15:00:00.000Z" }, log),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await nurture.contactLog(leadId)).contacts).toHaveLength(1);
  });

  it("lifts a STOP with START, but never an unsubscribe", async () => {
    const phone = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, "0")}`;
    await nurture.suppress({ channel: "sms", address: phone, reason: "stop", at: "2026-12-02T15:00:00.000Z" });
    await nurture.liftSuppression("sms", phone, ["stop"]);
    expect(await nurture.suppression("sms", phone)).toBeUndefined();
    const email = `${randomUUID()}@example.com`;
    await nurture.suppress({ channel: "email", address: email, reason: "unsubscribe", at: "2026-12-02T15:00:00.000Z" });
    await nurture.liftSuppression("email", email, ["stop"]);
    expect(await nurture.suppression("email", email)).toMatchObject({ reason: "unsubscribe" });
  });

  it("maps an unsubscribe token to its lead and address", async () => {
    const token = await nurture.createUnsubscribeToken("lead-9", "ada@example.com", "2026-12-02T15:00:00.000Z");
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await nurture.findUnsubscribeToken(token)).toEqual({ leadId: "lead-9", email: "ada@example.com" });
    expect(await nurture.findUnsubscribeToken("nope")).toBeUndefined();
  });
});
