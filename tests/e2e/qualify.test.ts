import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { configVersion, type LeadView, maxEventsPerRequest } from "@leadflow/core";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { expectErrorBody } from "../helpers/errors.ts";
import { eventTap } from "../helpers/event-tap.ts";
import { formDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { stackClient } from "../helpers/stack-client.ts";

const client = stackClient();
const run = randomUUID().slice(0, 8);
const shippedVersion = configVersion(readFileSync("config/scoring.yaml", "utf8"));
/** Every domain event the stack publishes, as a subscribed consumer receives it. */
let tap: Awaited<ReturnType<typeof eventTap>>;
beforeAll(async () => {
  tap = await eventTap(inject("stack").sqsEndpoint, inject("stack").domainEventTopicArn);
});

/** A lead captured from a signed form delivery, once the worker has stored it. */
async function capturedLead(fields: Record<string, string>): Promise<{ lead: LeadView; deliveryId: string }> {
  const deliveryId = `msg_${randomUUID()}`;
  const sent = await client.send(formDelivery(fields, { secret: testSecrets.FORM_SIGNING_SECRET, id: deliveryId }));
  expect(sent.status).toBe(202);
  await client.drained();
  const [lead, ...others] = await client.leadsByEmail(fields.email as string);
  expect(others).toEqual([]);
  return { lead: lead as LeadView, deliveryId };
}

function event(type: string, properties: Record<string, string> = {}, id = `${type}-${randomUUID()}`) {
  return { id, type, at: new Date(Date.now() - 60_000).toISOString(), properties };
}

function historyOf(lead: LeadView, type: string) {
  return lead.history.filter((entry) => entry.type === type);
}

describe("qualifying a lead with the shipped scoring config", () => {
  it("turns a business lead with a senior title hot and marketing-qualified after pricing and a demo request, explaining each step", async () => {
    const email = `vp-${run}@acme-rockets.com`;
    const { lead: captured, deliveryId } = await capturedLead({ email, job_title: "VP of Marketing" });
    expect(captured).toMatchObject({
      score: { fit: 35, engagement: 0, total: 35 },
      temperature: "warm",
      stage: "new",
      scoredWith: shippedVersion,
    });

    const pricing = event("page_view", { url: "https://acme-rockets.example/pricing?plan=team" });
    expect(await client.postEvents(captured.id, pricing)).toEqual({
      status: 202,
      body: { leadId: captured.id, accepted: [pricing.id] },
    });
    await client.eventsDrained();
    expect(await client.leadById(captured.id)).toMatchObject({
      score: { fit: 35, engagement: 17, total: 52 },
      temperature: "warm",
      stage: "new",
    });

    const demo = event("demo_request");
    expect(await client.postEvents(captured.id, { events: [demo] })).toEqual({
      status: 202,
      body: { leadId: captured.id, accepted: [demo.id] },
    });
    await client.eventsDrained();

    const lead = await client.leadById(captured.id);
    expect(lead).toMatchObject({
      score: { fit: 35, engagement: 57, total: 92 },
      temperature: "hot",
      temperatureReason: "score 92 ≥ 70 (hot threshold)",
      stage: "marketing-qualified",
      scoredWith: shippedVersion,
    });
    expect(lead.topRules).toEqual([
      { rule: "demo-request", kind: "engagement", points: 40, description: null },
      { rule: "senior-title", kind: "fit", points: 20, description: "Decides or signs" },
      { rule: "business-email", kind: "fit", points: 15, description: "Writes from a company domain" },
      { rule: "pricing-page", kind: "engagement", points: 15, description: "Looked at pricing" },
      { rule: "page-view", kind: "engagement", points: 2, description: null },
    ]);

    expect(historyOf(lead, "lead.captured")).toEqual([
      expect.objectContaining({
        summary: "Created from form",
        details: expect.objectContaining({ source: "form", platformLeadId: deliveryId, outcome: "created" }),
      }),
    ]);
    expect(historyOf(lead, "score.changed")).toEqual([
      expect.objectContaining({
        summary: "Fit score 0 → 35: business-email +15, senior-title +20",
        details: expect.objectContaining({
          fitRules: [
            { rule: "business-email", points: 15 },
            { rule: "senior-title", points: 20 },
          ],
          configVersion: shippedVersion,
        }),
      }),
    ]);
    expect(historyOf(lead, "lead.event")).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: `event:${pricing.id}`,
          summary: "page_view https://acme-rockets.example/pricing?plan=team: +15 pricing-page, +2 page-view",
          details: expect.objectContaining({
            eventId: pricing.id,
            type: "page_view",
            rules: [
              { rule: "pricing-page", points: 15 },
              { rule: "page-view", points: 2 },
            ],
            configVersion: shippedVersion,
          }),
        }),
        expect.objectContaining({
          id: `event:${demo.id}`,
          summary: "demo_request: +40 demo-request",
          details: expect.objectContaining({
            eventId: demo.id,
            type: "demo_request",
            rules: [{ rule: "demo-request", points: 40 }],
            configVersion: shippedVersion,
          }),
        }),
      ]),
    );
    expect(historyOf(lead, "lead.event")).toHaveLength(2);
    expect(historyOf(lead, "temperature.changed").map(({ summary, details }) => ({ summary, details }))).toEqual(
      expect.arrayContaining([
        {
          summary: "Cold → warm: score 35 ≥ 30 (warm threshold)",
          details: expect.objectContaining({ from: "cold", to: "warm", configVersion: shippedVersion }),
        },
        {
          summary: "Warm → hot: score 92 ≥ 70 (hot threshold)",
          details: expect.objectContaining({ from: "warm", to: "hot", configVersion: shippedVersion }),
        },
      ]),
    );
    expect(historyOf(lead, "temperature.changed")).toHaveLength(2);
    expect(historyOf(lead, "stage.changed")).toEqual([
      expect.objectContaining({
        summary: "Stage new → marketing-qualified: score 92 ≥ 60 (MQL threshold)",
        details: expect.objectContaining({
          from: "new",
          to: "marketing-qualified",
          cause: { kind: "events", eventIds: [demo.id] },
          configVersion: shippedVersion,
        }),
      }),
    ]);

    const signals = await tap.eventsFor(lead.id, 2);
    expect(signals.map(({ type }) => type).sort()).toEqual(["lead.hot", "lead.marketing-qualified"]);
    for (const signal of signals) {
      expect(signal).toEqual({
        id: expect.stringMatching(new RegExp(`^${lead.id}:${signal.type}:\\d+$`)),
        type: signal.type,
        leadId: lead.id,
        at: expect.any(String),
        score: { fit: 35, engagement: 57, total: 92 },
        temperature: "hot",
        stage: "marketing-qualified",
        configVersion: shippedVersion,
      });
    }
  });

  it("leaves a free-mail lead without events cold and new, and signals nothing", async () => {
    const { lead } = await capturedLead({ email: `someone-${run}@gmail.com`, first_name: "Some" });
    expect(lead).toMatchObject({
      score: { fit: -5, engagement: 0, total: -5 },
      temperature: "cold",
      temperatureReason: "score -5 < 30 (warm threshold)",
      stage: "new",
    });
    expect(lead.topRules).toEqual([
      {
        rule: "free-email",
        kind: "fit",
        points: -5,
        description: "Writes from a free-mail domain (gmail.com, yahoo.com, ...)",
      },
    ]);
    expect(lead.history.map(({ type }) => type).sort()).toEqual(["lead.captured", "score.changed"]);
    expect(await tap.eventsFor(lead.id, 1, 3_000)).toEqual([]);
  });

  it("counts a retried event once, even re-sent in a batch with a different body", async () => {
    const { lead: captured } = await capturedLead({ email: `retry-${run}@acme-rockets.com` });
    const click = event("email_click", { campaign: "launch" });
    expect((await client.postEvents(captured.id, click)).status).toBe(202);
    await client.eventsDrained();
    const once = await client.leadById(captured.id);
    expect(once.score).toEqual({ fit: 15, engagement: 5, total: 20 });

    expect(await client.postEvents(captured.id, click)).toEqual({
      status: 202,
      body: { leadId: captured.id, accepted: [click.id] },
    });
    await client.eventsDrained();
    const open = event("email_open");
    const resent = event("page_view", { url: "https://acme-rockets.example/pricing" }, click.id);
    expect(await client.postEvents(captured.id, { events: [resent, open] })).toEqual({
      status: 202,
      body: { leadId: captured.id, accepted: [click.id, open.id] },
    });
    await client.eventsDrained();

    const lead = await client.leadById(captured.id);
    expect(lead.score).toEqual({ fit: 15, engagement: 6, total: 21 });
    expect(historyOf(lead, "lead.event").map(({ id, details }) => ({ id, type: details.type }))).toEqual(
      expect.arrayContaining([
        { id: `event:${click.id}`, type: "email_click" },
        { id: `event:${open.id}`, type: "email_open" },
      ]),
    );
    expect(historyOf(lead, "lead.event")).toHaveLength(2);
  });
});

describe("POST /leads/{id}/events refusals", () => {
  let leadId = "";
  beforeAll(async () => {
    leadId = (await capturedLead({ email: `refused-${run}@acme-rockets.com` })).lead.id;
  });

  const longUrl = `https://acme-rockets.example/${"a".repeat(1_950)}`;
  const tooMany = Array.from({ length: maxEventsPerRequest + 1 }, (_, index) => event("email_open", {}, `e-${index}`));
  const cases = [
    {
      what: "an unknown lead",
      status: 404,
      code: "not_found",
      lead: () => `no-such-lead-${run}`,
      body: event("demo_request"),
      headers: {},
    },
    {
      what: "no API key",
      status: 401,
      code: "unauthorized",
      lead: () => leadId,
      body: event("demo_request"),
      headers: { "x-api-key": undefined },
    },
    {
      what: "a body that is not JSON",
      status: 400,
      code: "invalid_body",
      lead: () => leadId,
      body: '{"id": "broken", "type": "demo_request"',
      headers: {},
    },
    {
      what: "text/plain",
      status: 415,
      code: "unsupported_media_type",
      lead: () => leadId,
      body: JSON.stringify(event("demo_request")),
      headers: { "content-type": "text/plain" },
    },
    {
      what: "an unknown event type",
      status: 422,
      code: "validation_failed",
      lead: () => leadId,
      body: event("tweet"),
      headers: {},
    },
    {
      what: "a page_view without properties.url",
      status: 422,
      code: "validation_failed",
      lead: () => leadId,
      body: { events: [event("page_view", { title: "Pricing" })] },
      headers: {},
    },
    {
      what: "an event in the future",
      status: 422,
      code: "validation_failed",
      lead: () => leadId,
      body: { ...event("demo_request"), at: new Date(Date.now() + 3_600_000).toISOString() },
      headers: {},
    },
    {
      what: "one id twice in a batch",
      status: 422,
      code: "validation_failed",
      lead: () => leadId,
      body: { events: [event("email_open", {}, "twice"), event("email_click", {}, "twice")] },
      headers: {},
    },
    {
      what: "a batch over 256 KB once queued",
      status: 413,
      code: "payload_too_large",
      lead: () => leadId,
      body: {
        events: Array.from({ length: 100 }, (_, index) =>
          event("page_view", { url: longUrl, a: longUrl }, `big-${index}`),
        ),
      },
      headers: {},
    },
    {
      what: `${maxEventsPerRequest + 1} events`,
      status: 422,
      code: "validation_failed",
      lead: () => leadId,
      body: { events: tooMany },
      headers: {},
    },
  ];

  it.each(cases)("$what -> $status $code", async ({ lead, body, headers, status, code }) => {
    const response = await client.postEvents(lead(), body, headers);
    expect(response.status).toBe(status);
    expectErrorBody(response.body, code);
  });

  it("says which event and field is wrong", async () => {
    const response = await client.postEvents(leadId, {
      events: [
        event("page_view", { url: "https://acme-rockets.example/" }),
        event("tweet"),
        event("page_view"),
        { ...event("demo_request"), at: new Date(Date.now() + 3_600_000).toISOString() },
      ],
    });
    expect(response).toEqual({
      status: 422,
      body: {
        error: {
          code: "validation_failed",
          message: "Some events are not valid",
          details: [
            { path: "events.1.type", message: 'unknown event type "tweet" (see config/scoring.yaml)' },
            { path: "events.2.properties.url", message: "a page_view needs properties.url" },
            { path: "events.3.at", message: "is in the future" },
          ],
        },
      },
    });
  });

  it("scores none of them", async () => {
    await client.eventsDrained();
    const lead = await client.leadById(leadId);
    expect(historyOf(lead, "lead.event")).toEqual([]);
    expect(lead.score).toEqual({ fit: 15, engagement: 0, total: 15 });
  });
});

describe("the local schedules tool", () => {
  it("runs refresh-temperatures now and reports what it checked and changed", async () => {
    const response = await fetch(`${client.url}/_local/schedules/refresh-temperatures`, { method: "POST" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: { checked: number; changed: number } };
    expect(body).toEqual({
      schedule: "refresh-temperatures",
      result: { checked: expect.any(Number), changed: expect.any(Number) },
      durationMs: expect.any(Number),
    });
    expect(body.result.changed).toBeLessThanOrEqual(body.result.checked);
  });

  it("answers 404 with the schedules it knows for an unknown one", async () => {
    const response = await fetch(`${client.url}/_local/schedules/refresh-everything`, { method: "POST" });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        code: "not_found",
        message: 'No schedule named "refresh-everything"',
        details: { schedules: ["refresh-temperatures", "nurture-enrol", "nurture-step"] },
      },
    });
  });
});
