import { randomUUID } from "node:crypto";
import { applyCapture, captureHistoryEntry, ingestCapture, type LeadSource } from "@leadflow/core";
import { dynamoClient } from "@leadflow/local";
import { createLeadStore, type LeadStore, LeadTooLargeError } from "@leadflow/store";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { scoringDependencies } from "../helpers/scoring.ts";
import { freshTable } from "../helpers/tables.ts";

const engines = inject("emulators").dynamodb;

describe.each(engines)("the lead store on $name", ({ endpoint }) => {
  let store: LeadStore;

  beforeAll(async () => {
    const client = dynamoClient(endpoint);
    store = createLeadStore({ client, tableName: await freshTable(client) });
  });

  const ingest = (delivery: ReturnType<typeof capture>) =>
    ingestCapture(
      {
        ...scoringDependencies(store, { now: () => new Date().toISOString() }).dependencies,
        newLeadId: randomUUID,
      },
      delivery.receipt,
      () => delivery.lead,
    );

  it("gives an identifier to exactly one of many concurrent claimants", async () => {
    const identifier = { kind: "email" as const, value: `race-${randomUUID()}@example.com` };
    const owners = await Promise.all(Array.from({ length: 8 }, (_, index) => store.claim(identifier, `lead-${index}`)));
    expect(new Set(owners).size).toBe(1);
    expect(await store.findOwners([identifier])).toEqual(new Map([[`email:${identifier.value}`, owners[0]]]));
  });

  it("creates a lead once and replaces it only at the expected version", async () => {
    const lead = applyCapture(undefined, capture(), { leadId: randomUUID(), now: new Date().toISOString() }).lead;
    expect(await store.saveLead(lead, undefined)).toBe(true);
    expect(await store.saveLead(lead, undefined)).toBe(false);
    const next = applyCapture(lead, capture({ email: lead.email }), {
      leadId: lead.id,
      now: new Date().toISOString(),
    }).lead;
    expect(await store.saveLead(next, 0)).toBe(false);
    expect(await store.saveLead(next, 1)).toBe(true);
    expect(await store.getLead(lead.id)).toEqual(next);
  });

  it("refuses a lead over DynamoDB's item limit with a permanent error, so the queue dead-letters it", async () => {
    const { lead: stored } = applyCapture(undefined, capture(), {
      leadId: randomUUID(),
      now: new Date().toISOString(),
    });
    // Past every limit a capture can reach: a lead only the store's own check stops.
    const lead = { ...stored, company: "x".repeat(410 * 1024) };
    const saving = store.saveLead(lead, undefined);
    await expect(saving).rejects.toBeInstanceOf(LeadTooLargeError);
    await expect(saving).rejects.toMatchObject({ permanent: true });
  });

  it("finds a lead by a phone claimed for it, and never re-assigns a claim", async () => {
    const identifier = { kind: "phone" as const, value: `+1646555${String(Date.now()).slice(-4)}` };
    expect(await store.claim(identifier, "first")).toBe("first");
    expect(await store.claim(identifier, "second")).toBe("first");
    expect(await store.findLeadIdByPhone(identifier.value)).toBe("first");
  });

  it("pins a delivery to the first lead it is pinned to, and returns history newest first", async () => {
    const leadId = randomUUID();
    const lead = applyCapture(undefined, capture(), { leadId, now: new Date().toISOString() }).lead;
    await store.saveLead(lead, undefined);
    const receipt = {
      source: "form",
      platformLeadId: `msg_${leadId}`,
      receivedAt: new Date().toISOString(),
      test: false,
    };
    expect(await store.findReceipt(receipt)).toBeUndefined();
    expect(await store.pinReceipt(receipt, leadId)).toEqual({ leadId, applied: false });
    expect(await store.pinReceipt(receipt, "another-lead")).toEqual({ leadId, applied: false });
    await store.markReceiptApplied(receipt);
    expect(await store.findReceipt(receipt)).toEqual({ leadId, applied: true });

    const source = lead.sources[0] as LeadSource;
    const entry = captureHistoryEntry(lead, { source, changedFields: [], droppedCustomFields: 0 });
    const older = { ...entry, at: "2026-11-24T09:00:00.000Z", id: "a" };
    const newer = { ...older, at: "2026-11-24T10:00:00.000Z", id: "b" };
    await store.recordHistory(older);
    await store.recordHistory(newer);
    await store.recordHistory(newer);
    const found = await store.getLeadWithHistory(leadId);
    expect(found?.history.map((entry) => entry.id)).toEqual(["b", "a"]);
  });

  it("keeps platform ids exactly as sent, case included", async () => {
    const [upper, lower] = [
      capture({}, { platformLeadId: "TeSter-ABC" }),
      capture({}, { platformLeadId: "tester-abc" }),
    ];
    const [first, second] = [await ingest(upper), await ingest(lower)];
    expect(first.leadId).not.toBe(second.leadId);
    expect(await store.findReceipt(upper.receipt)).toMatchObject({ leadId: first.leadId });
  });

  it("ends two different payloads racing for the same new email as one lead with both sources", async () => {
    for (let round = 0; round < 10; round++) {
      const email = `together-${randomUUID()}@example.com`;
      const phone = `+1415555${String(1000 + round)}`;
      const deliveries = [
        capture({ email, firstName: "Ada" }, { source: "form" }),
        capture({ email, phone }, { source: "meta" }),
        capture({ email, company: "Acme" }, { source: "google-ads" }),
      ];
      const results = await Promise.all(deliveries.map(ingest));
      expect(new Set(results.map((result) => result.leadId)).size).toBe(1);
      const lead = await store.getLead(results[0]?.leadId as string);
      expect(lead?.sources.map((source) => source.source).sort()).toEqual(["form", "google-ads", "meta"]);
      expect(lead).toMatchObject({ firstName: "Ada", company: "Acme", email });
    }
  });

  it("never splits an email across two leads when deliveries with overlapping identifiers race", async () => {
    for (let round = 0; round < 10; round++) {
      const email = `overlap-${randomUUID()}@example.com`;
      const phone = `+1415556${String(1000 + round)}`;
      const deliveries = [
        capture({ email, phone }, { source: "meta" }),
        capture({ phone }, { source: "google-ads" }),
        capture({ email }, { source: "form" }),
      ];
      const results = await Promise.all(deliveries.map(ingest));
      const leads = await Promise.all(
        [...new Set(results.map((result) => result.leadId))].map((id) => store.getLead(id)),
      );
      const holdingEmail = leads.filter((lead) => lead?.emails.includes(email)).map((lead) => lead?.id);
      expect(holdingEmail).toEqual([await store.findLeadIdByEmail(email)]);
      const holdingPhone = leads.filter((lead) => lead?.phones.includes(phone)).map((lead) => lead?.id);
      expect(holdingPhone).toEqual([await store.findLeadIdByPhone(phone)]);
      expect(leads.flatMap((lead) => lead?.sources ?? [])).toHaveLength(3);
    }
  });

  it("counts a redelivery once even when it races the first delivery", async () => {
    const delivery = capture();
    const results = await Promise.all([ingest(delivery), ingest(delivery), ingest(delivery)]);
    expect(new Set(results.map((result) => result.leadId)).size).toBe(1);
    expect(results.filter((result) => result.outcome === "created")).toHaveLength(1);
    const lead = await store.getLead(results[0]?.leadId as string);
    expect(lead?.sources).toHaveLength(1);
  });
});
