import { parseSources } from "@leadflow/channels";
import {
  type Capture,
  DomainEventSchema,
  domainEventTypes,
  ingestCapture,
  type LeadRepository,
  LeadSignalSchema,
} from "@leadflow/core";
import { subscriptions } from "@leadflow/manifest";
import { describe, expect, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { memoryRepository } from "../helpers/memory-repository.ts";
import { scoringDependencies } from "../helpers/scoring.ts";

/** Ingestion where leads created from `alerting` sources are announced. */
function ingester(repository: LeadRepository, alerting: readonly string[] | undefined) {
  const { dependencies, published } = scoringDependencies(repository);
  let id = 0;
  const deps = {
    ...dependencies,
    newLeadId: () => `lead-${++id}`,
    ...(alerting ? { alertsOnArrival: (source: string) => alerting.includes(source) } : {}),
  };
  return { published, ingest: (delivery: Capture) => ingestCapture(deps, delivery.receipt, () => delivery.lead) };
}

describe("lead.arrived", () => {
  it("is published once when a lead is created from a source that alerts on arrival", async () => {
    const memory = memoryRepository();
    const { published, ingest } = ingester(memory.repository, ["partner-form"]);
    const first = capture({ email: "ada@acme-corp.com" }, { source: "partner-form" });

    const { leadId } = await ingest(first);
    await ingest(first);
    await ingest(capture({ email: "ada@acme-corp.com" }, { source: "partner-form" }));

    const lead = memory.leads.get(leadId);
    expect(published.filter(({ type }) => type === "lead.arrived")).toEqual([
      {
        id: `${leadId}:lead.arrived:1`,
        type: "lead.arrived",
        leadId,
        at: lead?.createdAt,
        source: "partner-form",
        test: false,
        score: { fit: 15, engagement: 0, total: 15 },
        temperature: "cold",
        stage: "new",
        configVersion: lead?.qualification?.configVersion,
      },
    ]);
    expect(lead?.sources).toHaveLength(2);
  });

  it("is not published for a lead created from another source, nor when that source's delivery merges into it", async () => {
    const memory = memoryRepository();
    const { published, ingest } = ingester(memory.repository, ["partner-form"]);

    await ingest(capture({ email: "ben@acme-corp.com" }, { source: "form" }));
    await ingest(capture({ email: "ben@acme-corp.com" }, { source: "partner-form" }));

    expect(published.filter(({ type }) => type === "lead.arrived")).toEqual([]);
  });

  it("is not published when no source alerts on arrival", async () => {
    const memory = memoryRepository();
    const { published, ingest } = ingester(memory.repository, undefined);
    await ingest(capture({ email: "cy@acme-corp.com" }, { source: "partner-form" }));
    expect(published).toEqual([]);
  });

  it("marks a platform's test lead", async () => {
    const memory = memoryRepository();
    const { published, ingest } = ingester(memory.repository, ["google-ads"]);
    await ingest(capture({ email: "test@acme-corp.com" }, { source: "google-ads", test: true }));
    expect(published).toEqual([expect.objectContaining({ type: "lead.arrived", test: true })]);
  });
});

describe("domain event schemas", () => {
  it("tell the event types apart by type, each with its own fields", () => {
    const envelope = { id: "lead-1:x:1", leadId: "lead-1", at: "2026-11-24T10:00:00.000Z" };
    const snapshot = {
      score: { fit: 1, engagement: 2, total: 3 },
      temperature: "warm",
      stage: "new",
      configVersion: "abc",
    };
    expect(DomainEventSchema.parse({ ...envelope, type: "lead.hot", ...snapshot }).type).toBe("lead.hot");
    expect(() => DomainEventSchema.parse({ ...envelope, type: "lead.arrived", ...snapshot })).toThrow(/source/);
    expect(() => DomainEventSchema.parse({ ...envelope, type: "lead.lost", ...snapshot })).toThrow();
    expect(
      LeadSignalSchema.safeParse({ ...envelope, type: "lead.arrived", source: "s", test: false, ...snapshot }).success,
    ).toBe(false);
    expect(domainEventTypes).toEqual(["lead.hot", "lead.marketing-qualified", "lead.arrived"]);
  });

  it("cover every event type a manifest subscription asks for", () => {
    for (const [queue, { eventTypes }] of Object.entries(subscriptions)) {
      expect(
        eventTypes.filter((type) => !(domainEventTypes as string[]).includes(type)),
        queue,
      ).toEqual([]);
    }
    expect(subscriptions.qualified.eventTypes).toEqual(["lead.hot", "lead.marketing-qualified", "lead.arrived"]);
  });
});

describe("alertOnArrival in config/sources.yaml", () => {
  it("is off unless a source turns it on", () => {
    const sources = parseSources("sources:\n  form: { type: form }\n  partner: { type: form, alertOnArrival: true }\n");
    expect(sources.get("form")?.alertOnArrival).toBe(false);
    expect(sources.get("partner")?.alertOnArrival).toBe(true);
    expect(() => parseSources("sources:\n  form: { type: form, alertOnArrival: yes please }\n")).toThrow(
      /alertOnArrival/,
    );
  });
});
