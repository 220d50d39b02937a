import {
  applyCapture,
  applyEvents,
  type BehaviourEvent,
  type Capture,
  type EngagementState,
  engagementAt,
  evaluateFit,
  foldEvent,
  foldEvents,
  ingestCapture,
  type Lead,
  type LeadRepository,
  parseScoring,
  type QualifyContext,
  qualify,
  recordEvents,
  type ScoringModel,
} from "@leadflow/core";
import { describe, expect, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { memoryRepository } from "../helpers/memory-repository.ts";
import { scoringDependencies, shippedScoring, testClock, thresholdsYaml } from "../helpers/scoring.ts";

const now = "2026-11-24T10:00:00.000Z";
const dayMs = 24 * 60 * 60 * 1000;
const nowMs = Date.parse(now);

function model(parts: { fit?: string; engagement?: string; rest?: string } = {}): ScoringModel {
  return parseScoring(
    `fit:\n${parts.fit ?? "  []"}\nengagement:\n  halfLifeDays: 7\n${parts.engagement ?? ""}\n${parts.rest ?? ""}\n${thresholdsYaml}`,
  );
}

function leadFrom(...deliveries: Capture[]): Lead {
  return deliveries.reduce<Lead | undefined>(
    (lead, delivery) => applyCapture(lead, delivery, { leadId: "lead-1", now }).lead,
    undefined,
  ) as Lead;
}

function firedRules(fit: string, ...deliveries: Capture[]): string[] {
  return evaluateFit(leadFrom(...deliveries), model({ fit })).map(({ rule }) => rule);
}

function event(id: string, type: string, at: string, properties: Record<string, unknown> = {}): BehaviourEvent {
  return { id, type, at, properties };
}

function daysAfter(days: number, from = now): string {
  return new Date(Date.parse(from) + days * dayMs).toISOString();
}

function pointsAt(state: EngagementState, scoring: ScoringModel, at: string): Record<string, number> {
  return Object.fromEntries(engagementAt(state, scoring, Date.parse(at)).map(({ rule, points }) => [rule, points]));
}

function qualifyAt(lead: Lead, scoring: ScoringModel, at = now, extra: Partial<QualifyContext> = {}) {
  return qualify(lead, scoring, { now: at, version: lead.version + 1, cause: { kind: "decay" }, ...extra });
}

describe("fit rules", () => {
  it("equals compares the whole value, ignoring case", () => {
    const rule = "  - { id: cto, field: jobTitle, equals: cto, points: 20 }";
    expect(firedRules(rule, capture({ jobTitle: "CTO" }))).toEqual(["cto"]);
    expect(firedRules(rule, capture({ jobTitle: "Deputy CTO" }))).toEqual([]);
  });

  it("in holds for any listed value, ignoring case", () => {
    const rule = "  - { id: country, field: country, in: [US, GB], points: 5 }";
    expect(firedRules(rule, capture({ country: "gb" }))).toEqual(["country"]);
    expect(firedRules(rule, capture({ country: "FR" }))).toEqual([]);
  });

  it("contains finds a substring, ignoring case", () => {
    const rule = "  - { id: manager, field: jobTitle, contains: manager, points: 10 }";
    expect(firedRules(rule, capture({ jobTitle: "Senior Marketing MANAGER" }))).toEqual(["manager"]);
    expect(firedRules(rule, capture({ jobTitle: "Management consultant" }))).toEqual([]);
  });

  it("range reads the first number of a text answer like 51-200 or 1,000+", () => {
    const rule = "  - { id: size, field: custom.company_size, range: { min: 50, max: 500 }, points: 10 }";
    const size = (company_size: string) => firedRules(rule, capture({ custom: { company_size } }));
    expect(size("51-200")).toEqual(["size"]);
    expect(size("1,000+")).toEqual([]);
    expect(size("11-50")).toEqual([]);
    expect(size("about 300 people")).toEqual(["size"]);
    expect(size("a few")).toEqual([]);
    const large = "  - { id: large, field: custom.company_size, range: { min: 1000 }, points: 10 }";
    expect(firedRules(large, capture({ custom: { company_size: "1,000+" } }))).toEqual(["large"]);
  });

  it("range includes both bounds", () => {
    const rule = "  - { id: size, field: custom.employees, range: { min: 50, max: 500 }, points: 10 }";
    const size = (employees: string) => firedRules(rule, capture({ custom: { employees } }));
    expect([size("49"), size("50"), size("500"), size("501")]).toEqual([[], ["size"], ["size"], []]);
  });

  it("matches tests a regular expression, ignoring case", () => {
    const rule = String.raw`  - { id: senior, field: jobTitle, matches: '\b(vp|vice president|chief)\b', points: 20 }`;
    expect(firedRules(rule, capture({ jobTitle: "VP of Marketing" }))).toEqual(["senior"]);
    expect(firedRules(rule, capture({ jobTitle: "Chief Revenue Officer" }))).toEqual(["senior"]);
    expect(firedRules(rule, capture({ jobTitle: "MVP engineer" }))).toEqual([]);
  });

  it("exists tells a present value from an absent one", () => {
    const rules = [
      "  - { id: has-budget, field: custom.budget, exists: true, points: 5 }",
      "  - { id: no-budget, field: custom.budget, exists: false, points: -5 }",
    ].join("\n");
    expect(firedRules(rules, capture({ custom: { budget: "10k" } }))).toEqual(["has-budget"]);
    expect(firedRules(rules, capture({ custom: {} }))).toEqual(["no-budget"]);
  });

  it("tells free-mail addresses from business ones by emailType", () => {
    const rules = [
      "  - { id: business, field: emailType, equals: business, points: 15 }",
      "  - { id: free, field: emailType, equals: free, points: -5 }",
    ].join("\n");
    expect(firedRules(rules, capture({ email: "ada@gmail.com" }))).toEqual(["free"]);
    expect(firedRules(rules, capture({ email: "ada@acme-corp.com" }))).toEqual(["business"]);
    expect(firedRules(rules, capture({ email: undefined, phone: "+14155550132" }))).toEqual([]);
  });

  it("counts a lead with a free and a business address as business", () => {
    const rule = "  - { id: business, field: emailType, equals: business, points: 15 }";
    const lead = [capture({ email: "ada@gmail.com" }), capture({ email: "ada@acme-corp.com" })];
    expect(firedRules(rule, ...lead)).toEqual(["business"]);
  });

  it("treats the domains of emailDomains.free as free mail", () => {
    const scoring = model({
      fit: "  - { id: free, field: emailType, equals: free, points: -5 }",
      rest: "emailDomains:\n  free: [ACME-Corp.com]",
    });
    expect(evaluateFit(leadFrom(capture({ email: "ada@acme-corp.com" })), scoring)).toEqual([
      { rule: "free", points: -5 },
    ]);
  });

  it("reads the domain of each address as emailDomain", () => {
    const rule = "  - { id: acme, field: emailDomain, equals: acme-corp.com, points: 30 }";
    expect(firedRules(rule, capture({ email: "ada@acme-corp.com" }))).toEqual(["acme"]);
    expect(firedRules(rule, capture({ email: "ada@acme-corp.com.evil.example" }))).toEqual([]);
  });

  it("holds on source when any of the lead's sources passes", () => {
    const rule = "  - { id: paid, field: source, in: [meta, google-ads], points: 5 }";
    expect(firedRules(rule, capture({}, { source: "form" }), capture({}, { source: "meta" }))).toEqual(["paid"]);
    expect(firedRules(rule, capture({}, { source: "form" }))).toEqual([]);
  });

  it("reads a form's own fields as custom.<name>", () => {
    const rule = "  - { id: industry, field: custom.industry, in: [saas, fintech], points: 8 }";
    expect(firedRules(rule, capture({ custom: { industry: "SaaS" } }))).toEqual(["industry"]);
    expect(firedRules(rule, capture({ custom: { sector: "saas" } }))).toEqual([]);
  });

  it("adds up the points of every rule that holds", () => {
    const scoring = model({
      fit: [
        "  - { id: business, field: emailType, equals: business, points: 15 }",
        "  - { id: manager, field: jobTitle, contains: manager, points: 10 }",
        "  - { id: nobody, field: jobTitle, exists: false, points: -20 }",
      ].join("\n"),
    });
    const { qualification } = qualifyAt(
      leadFrom(capture({ email: "a@acme-corp.com", jobTitle: "IT Manager" })),
      scoring,
    );
    expect(qualification.fitRules).toEqual([
      { rule: "business", points: 15 },
      { rule: "manager", points: 10 },
    ]);
    expect(qualification.score).toEqual({ fit: 25, engagement: 0, total: 25 });
  });
});

describe("engagement", () => {
  const pricing = model({
    engagement: String.raw`  rules:
    - id: pricing
      event: page_view
      where:
        - { property: url, matches: '/pricing(/|\?|#|$)' }
      points: 15
    - id: long-watch
      event: webinar_attended
      where:
        - { property: minutes, range: { min: 30 } }
      points: 10`,
  });

  it("scores an event only when its properties meet the rule's conditions", () => {
    const state: EngagementState = {};
    expect(
      foldEvent(state, event("e1", "page_view", now, { url: "https://example.com/pricing?plan=pro" }), pricing),
    ).toEqual([{ rule: "pricing", points: 15 }]);
    expect(
      foldEvent(state, event("e2", "page_view", now, { url: "https://example.com/pricing-faq" }), pricing),
    ).toEqual([]);
    expect(foldEvent(state, event("e3", "page_view", now, {}), pricing)).toEqual([]);
    expect(foldEvent(state, event("e4", "webinar_attended", now, { minutes: 45 }), pricing)).toEqual([
      { rule: "long-watch", points: 10 },
    ]);
    expect(foldEvent(state, event("e5", "webinar_attended", now, { minutes: 12 }), pricing)).toEqual([]);
    expect(state).toEqual({
      pricing: { value: 15, asOf: nowMs, count: 1 },
      "long-watch": { value: 10, asOf: nowMs, count: 1 },
    });
  });

  it("scores nothing for an event type no rule mentions", () => {
    const state: EngagementState = {};
    expect(foldEvent(state, event("e1", "form_submit", now), pricing)).toEqual([]);
    expect(state).toEqual({});
  });

  it("keeps a rule within its cap however many events match", () => {
    const scoring = model({ engagement: "  rules:\n    - { id: opens, event: email_open, points: 15, cap: 30 }" });
    const state = foldEvents(
      ["e1", "e2", "e3", "e4"].map((id) => event(id, "email_open", now)),
      scoring,
    );
    expect(state.opens).toEqual({ value: 30, asOf: nowMs, count: 4 });
    expect(pointsAt(state, scoring, now)).toEqual({ opens: 30 });
  });

  it("scales the rules of a group over its cap to their share of it", () => {
    const scoring = model({
      engagement: [
        "  groups:",
        "    web: { cap: 30 }",
        "  rules:",
        "    - { id: views, event: page_view, points: 30, group: web }",
        "    - { id: clicks, event: email_click, points: 10, group: web }",
        "    - { id: demo, event: demo_request, points: 40 }",
      ].join("\n"),
    });
    const state = foldEvents(
      [
        event("e1", "page_view", now, { url: "https://example.com/" }),
        event("e2", "email_click", now),
        event("e3", "demo_request", now),
      ],
      scoring,
    );
    expect(pointsAt(state, scoring, now)).toEqual({ views: 22.5, clicks: 7.5, demo: 40 });
  });

  it("leaves a group under its cap alone", () => {
    const scoring = model({
      engagement:
        "  groups:\n    web: { cap: 30 }\n  rules:\n    - { id: views, event: page_view, points: 10, group: web }",
    });
    const state = foldEvents([event("e1", "page_view", now, { url: "https://example.com/" })], scoring);
    expect(pointsAt(state, scoring, now)).toEqual({ views: 10 });
  });

  it("halves a rule's points every halfLifeDays", () => {
    const scoring = model({ engagement: "  rules:\n    - { id: demo, event: demo_request, points: 40 }" });
    const state: EngagementState = {};
    foldEvent(state, event("e1", "demo_request", now), scoring);
    expect(pointsAt(state, scoring, now)).toEqual({ demo: 40 });
    expect(pointsAt(state, scoring, daysAfter(7))).toEqual({ demo: 20 });
    expect(pointsAt(state, scoring, daysAfter(14))).toEqual({ demo: 10 });
    expect(pointsAt(state, scoring, daysAfter(-1))).toEqual({ demo: 40 });
  });

  it("adds a later event to the decayed value of earlier ones", () => {
    const scoring = model({ engagement: "  rules:\n    - { id: demo, event: demo_request, points: 40 }" });
    const state: EngagementState = {};
    foldEvent(state, event("e1", "demo_request", now), scoring);
    foldEvent(state, event("e2", "demo_request", daysAfter(7)), scoring);
    expect(state.demo).toEqual({ value: 60, asOf: nowMs + 7 * dayMs, count: 2 });
  });

  it("folds an event that arrives late as if it had come in order", () => {
    const scoring = model({ engagement: "  rules:\n    - { id: demo, event: demo_request, points: 40 }" });
    const inOrder: EngagementState = {};
    foldEvent(inOrder, event("e1", "demo_request", now), scoring);
    foldEvent(inOrder, event("e2", "demo_request", daysAfter(7)), scoring);
    const late: EngagementState = {};
    foldEvent(late, event("e2", "demo_request", daysAfter(7)), scoring);
    foldEvent(late, event("e1", "demo_request", now), scoring);
    expect(late).toEqual(inOrder);
  });

  it("scores events at the time of scoring, decayed since they happened", () => {
    const scoring = model({ engagement: "  rules:\n    - { id: demo, event: demo_request, points: 40 }" });
    const lead = leadFrom(capture({ email: "ada@gmail.com" }));
    const scored = applyEvents(lead, [event("e1", "demo_request", daysAfter(-7))], scoring, now);
    expect(scored.qualification?.score).toEqual({ fit: 0, engagement: 20, total: 20 });
    expect(scored.qualification?.engagement).toEqual({
      demo: { value: 40, asOf: nowMs - 7 * dayMs, count: 1 },
    });
  });

  it("records an event no rule scores with 'no rule matched'", () => {
    const lead = leadFrom(capture({ email: "ada@gmail.com" }));
    const scored = applyEvents(lead, [event("e1", "form_submit", now, { form: "newsletter" })], pricing, now);
    expect(scored.qualification?.score.engagement).toBe(0);
    expect(scored.pending?.history).toEqual([
      {
        leadId: "lead-1",
        id: "event:e1",
        at: now,
        type: "lead.event",
        summary: "form_submit: no rule matched",
        details: {
          eventId: "e1",
          type: "form_submit",
          rules: [],
          configVersion: pricing.version,
        },
      },
    ]);
  });

  it("drops the points of rules the config no longer has", () => {
    const scoring = model({ engagement: "  rules:\n    - { id: demo, event: demo_request, points: 40 }" });
    const state: EngagementState = { gone: { value: 25, asOf: nowMs, count: 1 } };
    expect(engagementAt(state, scoring, nowMs)).toEqual([]);
  });
});

describe("BANT", () => {
  const bant = model({
    rest: [
      "bant:",
      "  budget:",
      "    fields: [custom.budget, custom.budget_range]",
      "  need:",
      "    fields: [custom.need]",
      "    qualifies: { in: [immediate, urgent] }",
      "  freshForDays: 30",
    ].join("\n"),
  });

  it("keeps every answer and marks which ones qualify", () => {
    const lead = leadFrom(capture({ custom: { budget_range: "$10k-$50k", need: "someday" } }));
    expect(qualifyAt(lead, bant).qualification.bant).toEqual({
      budget: { answer: "$10k-$50k", qualifies: true, since: now },
      need: { answer: "someday", qualifies: false, since: now },
    });
  });

  it("reads the first of an entry's fields that has an answer", () => {
    const lead = leadFrom(capture({ custom: { budget: "50k", budget_range: "10k-20k", need: "Urgent" } }));
    expect(qualifyAt(lead, bant).qualification.bant).toMatchObject({
      budget: { answer: "50k", qualifies: true },
      need: { answer: "Urgent", qualifies: true },
    });
  });

  it("turns a lead hot on an immediate need, a budget range and a time frame (shipped config)", () => {
    const lead = leadFrom(
      capture({
        email: "ada@gmail.com",
        custom: { budget_range: "$10k-$50k", need: "Immediate", timeframe: "Q1 2027" },
      }),
    );
    const { qualification, history } = qualifyAt(lead, shippedScoring);
    expect(qualification).toMatchObject({ score: { total: -5 }, temperature: "hot" });
    expect(history.find((entry) => entry.type === "temperature.changed")?.summary).toBe(
      "Cold → hot: 3 qualifying BANT answers ≥ 3 (hot threshold)",
    );
  });

  it("counts only qualifying answers toward temperature", () => {
    const twoOfThree = leadFrom(
      capture({ email: "ada@gmail.com", custom: { budget_range: "$10k", need: "someday", timeframe: "Q1 2027" } }),
    );
    expect(qualifyAt(twoOfThree, shippedScoring).qualification.temperature).toBe("warm");
    const oneOfThree = leadFrom(
      capture({ email: "ada@gmail.com", custom: { budget_range: "$10k", need: "someday", authority: "advisor" } }),
    );
    expect(qualifyAt(oneOfThree, shippedScoring).qualification.temperature).toBe("cold");
  });

  it("stops counting an answer toward temperature after freshForDays", () => {
    const lead = leadFrom(
      capture({ email: "ada@gmail.com", custom: { budget_range: "$10k", need: "now", timeframe: "Q1" } }),
    );
    const scored = { ...lead, qualification: qualifyAt(lead, shippedScoring).qualification };
    expect(scored.qualification.coolsAt).toBe(daysAfter(30));
    expect(qualifyAt(scored, shippedScoring, daysAfter(29)).qualification.temperature).toBe("hot");
    const stale = qualifyAt(scored, shippedScoring, daysAfter(30)).qualification;
    expect(stale.temperature).toBe("cold");
    expect(stale.bant.need).toEqual({ answer: "now", qualifies: true, since: now });
  });

  it("dates a changed answer from when it changed", () => {
    const lead = leadFrom(capture({ custom: { need: "someday" } }));
    const first = { ...lead, qualification: qualifyAt(lead, bant).qualification };
    const later = daysAfter(10);
    const changed = applyCapture(first, capture({ custom: { need: "urgent" } }), { leadId: "lead-1", now: later }).lead;
    expect(qualifyAt(changed, bant, later).qualification.bant.need).toEqual({
      answer: "urgent",
      qualifies: true,
      since: later,
    });
  });
});

describe("temperature and MQL thresholds", () => {
  function scoredWith(points: number) {
    const scoring = model({ fit: `  - { id: fixed, field: jobTitle, exists: true, points: ${points} }` });
    return qualifyAt(leadFrom(capture({ jobTitle: "Analyst" })), scoring).qualification;
  }

  it("tags cold, warm and hot from the score, each threshold included", () => {
    expect([29, 30, 69, 70].map((points) => scoredWith(points).temperature)).toEqual(["cold", "warm", "warm", "hot"]);
  });

  it("makes a lead marketing-qualified from the MQL threshold on", () => {
    expect([59, 60].map((points) => scoredWith(points).stage)).toEqual(["new", "marketing-qualified"]);
  });

  it("says which threshold decided the temperature", () => {
    const scoring = model({ fit: "  - { id: fixed, field: jobTitle, exists: true, points: 30 }" });
    const { history } = qualifyAt(leadFrom(capture({ jobTitle: "Analyst" })), scoring);
    expect(history.find((entry) => entry.type === "temperature.changed")).toMatchObject({
      summary: "Cold → warm: score 30 ≥ 30 (warm threshold)",
      details: { from: "cold", to: "warm", because: "score 30 ≥ 30 (warm threshold)" },
    });
  });
});

describe("the shipped config", () => {
  function ingester(repository: LeadRepository, clock: ReturnType<typeof testClock>) {
    const { dependencies, published } = scoringDependencies(repository, { now: clock.now });
    let id = 0;
    const deps = { ...dependencies, newLeadId: () => `lead-${++id}` };
    return {
      deps,
      published,
      ingest: (delivery: Capture) => ingestCapture(deps, delivery.receipt, () => delivery.lead),
    };
  }

  it("makes a senior lead with a business email who looks at pricing and asks for a demo hot and an MQL", async () => {
    const memory = memoryRepository();
    const clock = testClock(now);
    const { deps, published, ingest } = ingester(memory.repository, clock);
    const { leadId } = await ingest(capture({ email: "dana@acme-corp.com", jobTitle: "VP of Marketing" }));
    expect(memory.leads.get(leadId)?.qualification).toMatchObject({
      fitRules: [
        { rule: "business-email", points: 15 },
        { rule: "senior-title", points: 20 },
      ],
      score: { fit: 35, engagement: 0, total: 35 },
      temperature: "warm",
      stage: "new",
    });

    clock.advanceDays(1);
    await recordEvents(deps, leadId, [
      event("ev-1", "page_view", clock.now(), { url: "https://example.com/pricing" }),
      event("ev-2", "demo_request", clock.now()),
    ]);
    expect(memory.leads.get(leadId)?.qualification).toMatchObject({
      score: { fit: 35, engagement: 57, total: 92 },
      temperature: "hot",
      stage: "marketing-qualified",
    });
    expect(published.map(({ type }) => type)).toEqual(["lead.hot", "lead.marketing-qualified"]);
    expect(memory.history.filter((entry) => entry.type === "lead.event").map(({ summary }) => summary)).toEqual([
      "page_view https://example.com/pricing: +15 pricing-page, +2 page-view",
      "demo_request: +40 demo-request",
    ]);
  });

  it("leaves a lead with a free-mail address and no events cold", async () => {
    const memory = memoryRepository();
    const { ingest } = ingester(memory.repository, testClock(now));
    const { leadId } = await ingest(capture({ email: "sam@gmail.com" }));
    const qualification = memory.leads.get(leadId)?.qualification;
    expect(qualification).toMatchObject({
      fitRules: [{ rule: "free-email", points: -5 }],
      score: { fit: -5, engagement: 0, total: -5 },
      temperature: "cold",
      stage: "new",
    });
    expect(qualification).not.toHaveProperty("coolsAt");
  });
});
