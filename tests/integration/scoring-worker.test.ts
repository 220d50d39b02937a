import { randomUUID } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { type EventsMessage, ingestCapture, type LeadSignal } from "@leadflow/core";
import type { LeadStore } from "@leadflow/store";
import { beforeAll, describe, expect, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { consumerContext, consumerUnderTest } from "../helpers/emulator-environment.ts";
import { scoringDependencies } from "../helpers/scoring.ts";
import { deliverAsEvent, receiveAsEvent, type TestQueue } from "../helpers/sqs.ts";

const context = consumerContext;

let handler: Awaited<ReturnType<typeof consumerUnderTest>>["handler"];
let store: LeadStore;
let sqs: SQSClient;
let queue: TestQueue;
let deadLetters: TestQueue;
let qualified: TestQueue;

beforeAll(async () => {
  ({ handler, store, sqs, queue, deadLetters, qualified } = await consumerUnderTest(
    "functions/scoring/events-worker.ts",
  ));
});

async function capturedLead(fields: { email: string; jobTitle?: string }): Promise<string> {
  const { dependencies } = scoringDependencies(store, { now: () => new Date().toISOString() });
  const delivery = capture(fields);
  const { leadId } = await ingestCapture(
    { ...dependencies, newLeadId: randomUUID },
    delivery.receipt,
    () => delivery.lead,
  );
  return leadId;
}

function eventsMessage(leadId: string, events: { id: string; type: string; url?: string }[]): EventsMessage {
  const at = new Date().toISOString();
  return {
    leadId,
    receivedAt: at,
    events: events.map(({ id, type, url }) => ({ id, type, at, properties: url ? { url } : {} })),
  };
}

async function signalsOf(leadId: string): Promise<LeadSignal[]> {
  const { Records } = await receiveAsEvent(sqs, qualified, 10, 2);
  return Records.map((record) => JSON.parse(record.body) as LeadSignal).filter((signal) => signal.leadId === leadId);
}

describe("the scoring worker", () => {
  it("folds a message's events into score, temperature, stage and history, and signals the lead once", async () => {
    const leadId = await capturedLead({ email: "grace@acme-rockets.com", jobTitle: "VP of Marketing" });
    const message = eventsMessage(leadId, [
      { id: "view-1", type: "page_view", url: "https://acme-rockets.com/pricing" },
      { id: "demo-1", type: "demo_request" },
    ]);

    expect((await handler(await deliverAsEvent(sqs, queue, [message]), context)).batchItemFailures).toEqual([]);
    const scored = await store.getLeadWithHistory(leadId);
    expect(scored?.lead.qualification).toMatchObject({
      score: { fit: 35, engagement: 57, total: 92 },
      temperature: "hot",
      stage: "marketing-qualified",
    });
    expect(scored?.history.filter((entry) => entry.type === "lead.event").map((entry) => entry.summary)).toEqual([
      "page_view https://acme-rockets.com/pricing: +15 pricing-page, +2 page-view",
      "demo_request: +40 demo-request",
    ]);
    expect((await signalsOf(leadId)).map((signal) => signal.type).sort()).toEqual([
      "lead.hot",
      "lead.marketing-qualified",
    ]);
    expect(scored?.lead.pending?.signals ?? []).toEqual([]);

    expect((await handler(await deliverAsEvent(sqs, queue, [message]), context)).batchItemFailures).toEqual([]);
    expect((await store.getLead(leadId))?.version).toBe(scored?.lead.version);
    expect(await signalsOf(leadId)).toEqual([]);
  });

  it("keeps the first body of an event id: a reused id with another type scores nothing more", async () => {
    const leadId = await capturedLead({ email: `reuse-${randomUUID()}@gmail.com` });
    await handler(
      await deliverAsEvent(sqs, queue, [eventsMessage(leadId, [{ id: "e", type: "email_open" }])]),
      context,
    );
    await handler(
      await deliverAsEvent(sqs, queue, [eventsMessage(leadId, [{ id: "e", type: "demo_request" }])]),
      context,
    );
    const { qualification } = (await store.getLead(leadId)) ?? {};
    expect(qualification?.score).toEqual({ fit: -5, engagement: 1, total: -4 });
    expect(await store.listEvents(leadId)).toEqual([
      { event: expect.objectContaining({ id: "e", type: "email_open" }), applied: true },
    ]);
  });

  it("dead-letters events for a lead that does not exist, with the reason", async () => {
    const message = eventsMessage(randomUUID(), [{ id: "lost", type: "reply" }]);
    expect((await handler(await deliverAsEvent(sqs, queue, [message]), context)).batchItemFailures).toEqual([]);
    const { Records } = await receiveAsEvent(sqs, deadLetters, 1);
    expect(Records[0]?.messageAttributes["leadflow.error.code"]?.stringValue).toBe("not_found");
  });
});
