import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { expectErrorBody } from "../helpers/errors.ts";
import { metaGraphControl } from "../helpers/meta-graph.ts";
import { formDelivery, googleAdsDelivery, graphLead, metaSignature, signedDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { stackClient } from "../helpers/stack-client.ts";

const client = stackClient();
const secret = testSecrets.FORM_SIGNING_SECRET;
const run = randomUUID().slice(0, 8);
const email = (label: string) => `${label}-${run}@hardening.example`;

/** Posts a signed form lead and waits until it is stored; returns the lead as the API shows it. */
async function storedLead(fields: Record<string, unknown>, body?: string) {
  const delivery = body ? signedDelivery(body, "application/json", { secret }) : formDelivery(fields, { secret });
  const response = await client.send(delivery);
  expect(response.status).toBe(202);
  await client.drained();
  const [lead] = await client.leadsByEmail(String(fields.email));
  if (!lead) throw new Error(`the lead of ${String(fields.email)} was not stored`);
  return lead;
}

describe("leads that once got a 500 or were lost", () => {
  it("stores every plane of Unicode unchanged: emoji, 𠮷, and the characters SQS cannot carry raw", async () => {
    const lead = await storedLead({
      email: email("unicode"),
      first_name: "𠮷田",
      message: "Hi 👋",
      odd: "\uFFFE and \uFFFF",
    });
    expect(lead).toMatchObject({ firstName: "𠮷田", custom: { message: "Hi 👋", odd: "\uFFFE and \uFFFF" } });
  });

  it("stores fields named like Object.prototype members, __proto__ included, as they were sent", async () => {
    const address = email("prototype");
    const body = `{"email":"${address}","constructor":"c","toString":"t","hasOwnProperty":"h","__proto__":"p"}`;
    const lead = await storedLead({ email: address }, body);
    expect(Object.entries(lead.custom)).toEqual([
      ["constructor", "c"],
      ["toString", "t"],
      ["hasOwnProperty", "h"],
      ["__proto__", "p"],
    ]);
  });

  it("answers 422 to 5,000 nested arrays in a 10 KB form, and stays up", async () => {
    const deep = `${"[".repeat(5_000)}${"]".repeat(5_000)}`;
    const delivery = signedDelivery(`{"email":"${email("deep")}","x":${deep}}`, "application/json", { secret });
    const response = await client.send(delivery);
    expect(response.status).toBe(422);
    expectErrorBody(response.body, "validation_failed");
    expect((await client.get("/health", {})).status).toBe(200);
  });

  it("answers 422 to a Google lead_id past the key limits instead of storing half of it", async () => {
    const delivery = googleAdsDelivery({
      key: testSecrets.GOOGLE_ADS_WEBHOOK_KEY,
      leadId: "€".repeat(512),
      columns: { EMAIL: email("long-id") },
    });
    const response = await client.send(delivery);
    expect(response.status).toBe(422);
    expect(await client.leadsByEmail(email("long-id"))).toEqual([]);
  });

  it("takes a full Meta batch of 1,000 changes (over 256 KB) and stores every lead", async () => {
    const graph = metaGraphControl(inject("stack").metaGraph);
    const base = 7_000_000_000_000_000n + BigInt(Number.parseInt(run, 16) % 1_000_000) * 1_000n;
    const ids = Array.from({ length: 1_000 }, (_, index) => String(base + BigInt(index)));
    await graph.addLeads(
      Object.fromEntries(ids.map((id, index) => [id, graphLead(id, { email: email(`meta-${index}`) })])),
    );
    const entries = ids.map((id) => {
      const value = `{"ad_id":"23851234567890123","form_id":"1234567890123456","leadgen_id":"${id}","created_time":1764000000,"page_id":"1047365023412345","adgroup_id":"23851234567890123"}`;
      return `{"id":"1047365023412345","time":1764000000,"changes":[{"value":${value},"field":"leadgen"}]}`;
    });
    const body = `{"object":"page","entry":[${entries.join(",")}]}`;
    expect(Buffer.byteLength(body)).toBeGreaterThan(256 * 1024);
    const headers = {
      "content-type": "application/json",
      "x-hub-signature-256": metaSignature(body, testSecrets.META_APP_SECRET),
    };
    const response = await client.send({ path: "/webhooks/meta", headers, body });
    expect(response).toEqual({ status: 200, body: { status: "received", leads: 1_000 } });
    await client.drained(120_000);
    for (const index of [0, 499, 999]) expect(await client.leadsByEmail(email(`meta-${index}`))).toHaveLength(1);
  });
});

describe("events", () => {
  it("refuses with 422 an event whose time leaves the years 0000-9999 in UTC, instead of poisoning its batch", async () => {
    const lead = await storedLead({ email: email("events-year") });
    const deadLetters = await client.queueDepth(inject("stack").queues.events.deadLetterUrl);
    const response = await client.postEvents(lead.id, {
      events: [
        { id: "good", type: "demo_request", at: new Date().toISOString() },
        { id: "bad", type: "page_view", at: "0000-01-01T00:30:00+01:00", properties: { url: "https://example.com/" } },
      ],
    });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ error: { details: [{ path: "events.1.at" }] } });
    await client.eventsDrained();
    expect(await client.queueDepth(inject("stack").queues.events.deadLetterUrl)).toBe(deadLetters);
  });

  it("takes the write-only events key for events, and only the admin key for reading leads", async () => {
    const lead = await storedLead({ email: email("events-key") });
    const event = { id: "e1", type: "demo_request", at: new Date().toISOString() };
    const eventsKey = { "x-api-key": testSecrets.EVENTS_API_KEY };
    expect((await client.postEvents(lead.id, event, eventsKey)).status).toBe(202);
    expect((await client.postEvents(lead.id, { ...event, id: "e2" })).status).toBe(202);
    expect((await client.get(`/leads/${lead.id}`, eventsKey)).status).toBe(401);
    expect((await client.get(`/leads?email=${encodeURIComponent(email("events-key"))}`, eventsKey)).status).toBe(401);
    expect((await client.postEvents(lead.id, event, { "x-api-key": "guess" })).status).toBe(401);
  });
});
