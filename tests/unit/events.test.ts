import {
  type BehaviourEvent,
  EventsBodySchema,
  eventKey,
  ingestCapture,
  type Lead,
  leadLimits,
  NotFoundError,
  needsReplay,
  parseScoring,
  recordEvents,
  refreshTemperatures,
  rescoreLeads,
  type ScoringModel,
  ValidationError,
  validateEvents,
} from "@leadflow/core";
import { describe, expect, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { memoryRepository } from "../helpers/memory-repository.ts";
import { scoringDependencies, testClock, thresholdsYaml } from "../helpers/scoring.ts";

const now = "2026-11-24T10:00:00.000Z";

function scoringWith(demoPoints = 40, halfLifeDays = 7): ScoringModel {
  return parseScoring(`engagement:
  halfLifeDays: ${halfLifeDays}
  rules:
    - { id: demo, event: demo_request, points: ${demoPoints} }
    - { id: views, event: page_view, points: 5 }
customEvents: [trial_started]
${thresholdsYaml}`);
}

function event(id: string, type = "demo_request", at = now, properties: Record<string, unknown> = {}): BehaviourEvent {
  return { id, type, at, properties };
}

async function capturedLead(scoring = scoringWith()) {
  const memory = memoryRepository();
  const clock = testClock(now);
  const { dependencies, published } = scoringDependencies(memory.repository, { model: scoring, now: clock.now });
  const deps = { ...dependencies, newLeadId: () => "lead-1" };
  const delivery = capture({ email: "ada@gmail.com" });
  await ingestCapture(deps, delivery.receipt, () => delivery.lead);
  const lead = () => memory.leads.get("lead-1");
  return { memory, clock, deps, published, lead };
}

async function* pages(...leadIdPages: string[][]) {
  yield* leadIdPages;
}

describe("validating events", () => {
  const scoring = scoringWith();
  const validate = (body: unknown) => validateEvents(EventsBodySchema.parse(body), scoring, new Date(now));

  function issuesOf(body: unknown) {
    try {
      validate(body);
    } catch (error) {
      if (error instanceof ValidationError) return error.details;
      throw error;
    }
    throw new Error("expected the events to be rejected");
  }

  it("accepts one event or a list, with times in UTC and properties defaulted", () => {
    expect(validate({ id: "e1", type: "demo_request", at: "2026-11-24T11:00:00+01:00" })).toEqual([
      { id: "e1", type: "demo_request", at: "2026-11-24T10:00:00.000Z", properties: {} },
    ]);
    expect(
      validate({
        events: [
          { id: "e1", type: "page_view", at: now, properties: { url: "https://example.com/" } },
          { id: "e2", type: "trial_started", at: now },
        ],
      }).map(({ id, type }) => [id, type]),
    ).toEqual([
      ["e1", "page_view"],
      ["e2", "trial_started"],
    ]);
  });

  it("allows five minutes of clock skew", () => {
    expect(validate({ id: "e1", type: "demo_request", at: "2026-11-24T10:05:00.000Z" })).toHaveLength(1);
  });

  it("names each problem by its path", () => {
    expect(
      issuesOf({
        events: [
          { id: "e1", type: "podcast_listen", at: now },
          { id: "e2", type: "page_view", at: now, properties: { path: "/pricing" } },
          { id: "e3", type: "demo_request", at: "2026-11-24T10:05:01.000Z" },
          { id: "e1", type: "demo_request", at: now },
        ],
      }),
    ).toEqual([
      { path: "events.0.type", message: 'unknown event type "podcast_listen" (see config/scoring.yaml)' },
      { path: "events.1.properties.url", message: "a page_view needs properties.url" },
      { path: "events.2.at", message: "is in the future" },
      { path: "events.3.id", message: 'id "e1" appears twice in this request' },
    ]);
  });

  it("names the problems of a single event without a prefix", () => {
    expect(issuesOf({ id: "e1", type: "page_view", at: "2027-01-01T00:00:00.000Z" })).toEqual([
      { path: "properties.url", message: "a page_view needs properties.url" },
      { path: "at", message: "is in the future" },
    ]);
  });

  it("refuses an event whose time, once in UTC, falls outside what the scoring worker reads", () => {
    expect(issuesOf({ id: "e1", type: "demo_request", at: "0000-01-01T00:30:00+01:00" })).toEqual([
      { path: "at", message: "is outside the years 0000-9999 once converted to UTC" },
    ]);
    expect(validate({ id: "e1", type: "demo_request", at: "0000-01-01T00:30:00Z" })).toHaveLength(1);
  });

  it("keeps properties named like Object.prototype members, __proto__ included", () => {
    const [event] = validate(
      JSON.parse(
        '{"id":"e1","type":"demo_request","at":"2026-11-24T10:00:00Z","properties":{"__proto__":"p","constructor":"c"}}',
      ),
    );
    expect(Object.entries(event?.properties ?? {})).toEqual([
      ["__proto__", "p"],
      ["constructor", "c"],
    ]);
  });

  it("rejects with validation_failed", () => {
    expect(() => validate({ id: "e1", type: "podcast_listen", at: now })).toThrow(
      expect.objectContaining({ code: "validation_failed", message: "Some events are not valid" }),
    );
  });
});

describe("recording events", () => {
  it("counts a retried event once", async () => {
    const { memory, deps, lead } = await capturedLead();
    expect(await recordEvents(deps, "lead-1", [event("e1")])).toEqual({ applied: 1, duplicates: 0 });
    const version = lead()?.version;
    expect(await recordEvents(deps, "lead-1", [event("e1")])).toEqual({ applied: 0, duplicates: 1 });
    expect(lead()?.version).toBe(version);
    expect(lead()?.qualification).toMatchObject({
      engagement: { demo: { value: 40, count: 1 } },
      score: { total: 40 },
      recentEventIds: [eventKey("e1")],
    });
    expect(memory.history.filter(({ type }) => type === "lead.event")).toHaveLength(1);
  });

  it("keeps the first body of an event id re-sent with a different body", async () => {
    const { memory, deps, lead } = await capturedLead();
    await recordEvents(deps, "lead-1", [event("e1", "page_view", now, { url: "https://example.com/" })]);
    expect(await recordEvents(deps, "lead-1", [event("e1"), event("e2")])).toEqual({ applied: 1, duplicates: 1 });
    expect(memory.events.get("lead-1#e1")?.event.type).toBe("page_view");
    expect(lead()?.qualification?.engagement).toMatchObject({ views: { count: 1 }, demo: { count: 1 } });
    expect(lead()?.qualification?.score.total).toBe(45);
  });

  it("counts an id repeated within one batch once", async () => {
    const { deps, lead } = await capturedLead();
    expect(await recordEvents(deps, "lead-1", [event("e1"), event("e1", "page_view")])).toEqual({
      applied: 1,
      duplicates: 1,
    });
    expect(lead()?.qualification).toMatchObject({ score: { total: 40 }, recentEventIds: [eventKey("e1")] });
  });

  it("applies an event stored by a delivery that died before scoring it", async () => {
    const { memory, deps, lead } = await capturedLead();
    await memory.repository.storeEvents("lead-1", [event("e1")]);
    expect(await recordEvents(deps, "lead-1", [event("e1")])).toEqual({ applied: 1, duplicates: 0 });
    expect(lead()?.qualification?.score.total).toBe(40);
  });

  it("recognises a retry of an event too old for the lead to remember its id", async () => {
    const { deps, lead } = await capturedLead(scoringWith(0));
    const ids = Array.from({ length: 257 }, (_, index) => `e${index}`);
    for (const batch of [ids.slice(0, 100), ids.slice(100, 200), ids.slice(200)]) {
      await recordEvents(
        deps,
        "lead-1",
        batch.map((id) => event(id)),
      );
    }
    expect(lead()?.qualification?.recentEventIds).toEqual(ids.slice(1).map(eventKey));
    expect(await recordEvents(deps, "lead-1", [event("e0")])).toEqual({ applied: 0, duplicates: 1 });
    expect(lead()?.qualification?.engagement.demo?.count).toBe(257);
  });

  it("applies an event whose delivery died before scoring it, however many ids the lead remembers", async () => {
    const { memory, deps, lead } = await capturedLead(scoringWith(0));
    const ids = Array.from({ length: 300 }, (_, index) => `e${index}`);
    for (const batch of [ids.slice(0, 100), ids.slice(100, 200), ids.slice(200)])
      await recordEvents(
        deps,
        "lead-1",
        batch.map((id) => event(id)),
      );
    await memory.repository.storeEvents("lead-1", [event("late")]);
    expect(await recordEvents(deps, "lead-1", [event("late")])).toEqual({ applied: 1, duplicates: 0 });
    expect(lead()?.qualification?.engagement.demo?.count).toBe(301);
  });

  it("counts once an event whose delivery died after scoring it but before marking it applied", async () => {
    const { memory, deps, lead } = await capturedLead();
    let crashes = 1;
    const crashing = {
      ...deps,
      repository: {
        ...deps.repository,
        async markEventsApplied(leadId: string, eventIds: readonly string[]) {
          if (crashes-- > 0) throw new Error("the function timed out");
          await memory.repository.markEventsApplied(leadId, eventIds);
        },
      },
    };
    await expect(recordEvents(crashing, "lead-1", [event("e1")])).rejects.toThrow("timed out");
    expect(await recordEvents(crashing, "lead-1", [event("e1")])).toEqual({ applied: 0, duplicates: 1 });
    expect(memory.events.get("lead-1#e1")?.applied).toBe(true);
    expect(lead()?.qualification?.engagement.demo?.count).toBe(1);
  });

  it("refuses events for a lead that does not exist", async () => {
    const { deps } = await capturedLead();
    await expect(recordEvents(deps, "lead-404", [event("e1")])).rejects.toThrow(NotFoundError);
  });

  it("writes a history entry per event naming its rules, points and config", async () => {
    const scoring = scoringWith();
    const { memory, deps } = await capturedLead(scoring);
    await recordEvents(deps, "lead-1", [event("e2", "page_view", now, { url: "https://example.com/a" }), event("e1")]);
    expect(memory.history.filter(({ type }) => type === "lead.event")).toEqual([
      {
        leadId: "lead-1",
        id: "event:e2",
        at: now,
        type: "lead.event",
        summary: "page_view https://example.com/a: +5 views",
        details: {
          eventId: "e2",
          type: "page_view",
          url: "https://example.com/a",
          rules: [{ rule: "views", points: 5 }],
          configVersion: scoring.version,
        },
      },
      expect.objectContaining({ id: "event:e1", summary: "demo_request: +40 demo" }),
    ]);
  });

  it("keeps a full batch of events with long ids and addresses within what one lead item can hold", async () => {
    const { memory, deps } = await capturedLead();
    const saved: number[] = [];
    const measured = {
      ...deps,
      repository: {
        ...deps.repository,
        async saveLead(next: Lead, expectedVersion: number | undefined) {
          saved.push(Buffer.byteLength(JSON.stringify(next)));
          return memory.repository.saveLead(next, expectedVersion);
        },
      },
    };
    const longUrl = `https://example.com/${"ä".repeat(1_980)}`;
    const batch = Array.from({ length: 100 }, (_, index) =>
      event(`${"€".repeat(120)}-${index}`, "page_view", now, { url: longUrl, referrer: longUrl }),
    );
    expect(await recordEvents(measured, "lead-1", batch)).toEqual({ applied: 100, duplicates: 0 });
    const first = memory.history.find(({ id }) => id === `event:${batch[0]?.id}`);
    expect(first?.summary).toBe(`page_view ${longUrl.slice(0, 299)}…: +5 views`);
    // Written a few events at a time, and remembered by short keys: every write stays small.
    expect(saved).toHaveLength(100 / leadLimits.eventsPerWrite);
    expect(Math.max(...saved)).toBeLessThan(50_000);
  });

  it("clips a long address in the history without cutting a character in half", async () => {
    const { memory, deps } = await capturedLead();
    const url = `https://example.com/${"a".repeat(278)}${"🚀".repeat(10)}`;
    await recordEvents(deps, "lead-1", [event("v", "page_view", now, { url })]);
    const entry = memory.history.find(({ id }) => id === "event:v");
    expect(entry?.details.url).toBe(`${url.slice(0, 298)}…`);
    expect(entry?.details.url).toHaveLength(299);
  });

  it("publishes lead.hot and lead.marketing-qualified once, when the lead crosses", async () => {
    const { deps, published, lead, clock } = await capturedLead();
    await recordEvents(deps, "lead-1", [event("e1")]);
    expect(published).toEqual([]);
    expect(lead()?.qualification?.temperature).toBe("warm");

    await recordEvents(deps, "lead-1", [event("e2")]);
    const version = lead()?.version;
    expect(published).toEqual([
      {
        id: `lead-1:lead.hot:${version}`,
        type: "lead.hot",
        leadId: "lead-1",
        at: now,
        score: { fit: 0, engagement: 80, total: 80 },
        temperature: "hot",
        stage: "marketing-qualified",
        configVersion: deps.model.version,
      },
      expect.objectContaining({ id: `lead-1:lead.marketing-qualified:${version}`, type: "lead.marketing-qualified" }),
    ]);
    expect(lead()?.pending).toBeUndefined();

    clock.advanceDays(1);
    await recordEvents(deps, "lead-1", [event("e3", "demo_request", clock.now())]);
    expect(published).toHaveLength(2);
  });
});

describe("events after a config change", () => {
  it("needs a replay only for a lead scored with another config that has events", async () => {
    const before = scoringWith(40);
    const after = scoringWith(10);
    const { deps, lead } = await capturedLead(before);
    const captured = lead();
    if (!captured) throw new Error("no lead");
    expect(needsReplay(captured, after)).toBe(false);
    await recordEvents(deps, "lead-1", [event("e1")]);
    const withEvents = lead();
    if (!withEvents) throw new Error("no lead");
    expect(needsReplay(withEvents, before)).toBe(false);
    expect(needsReplay(withEvents, after)).toBe(true);
  });

  it("scores every stored event again with the new config, and says which config decided", async () => {
    const before = scoringWith(40);
    const after = scoringWith(10);
    const { memory, deps, lead } = await capturedLead(before);
    await recordEvents(deps, "lead-1", [event("e1"), event("e2")]);
    expect(lead()?.qualification?.score.total).toBe(80);

    await recordEvents({ ...deps, model: after }, "lead-1", [event("e3")]);
    expect(lead()?.qualification).toMatchObject({
      configVersion: after.version,
      engagement: { demo: { value: 30, count: 3 } },
      score: { total: 30 },
      temperature: "warm",
      recentEventIds: ["e1", "e2", "e3"].map(eventKey),
    });
    const entries = memory.history.filter(({ details }) => details.configVersion === after.version);
    expect(entries.map(({ id, type }) => [id, type])).toEqual([
      ["event:e3", "lead.event"],
      [`temperature.changed:${lead()?.version}`, "temperature.changed"],
    ]);
    expect(lead()?.pending).toBeUndefined();
  });
});

describe("events in flight while a lead is replayed", () => {
  // Delivery A has stored its event but not yet written the lead when the replay happens.
  async function withEventInFlight() {
    const before = scoringWith(40);
    const after = scoringWith(10);
    const captured = await capturedLead(before);
    await recordEvents(captured.deps, "lead-1", [event("e0")]);
    await captured.memory.repository.storeEvents("lead-1", [event("in-flight")]);
    return { ...captured, after, deps: { ...captured.deps, model: after } };
  }

  it("counts once an event stored by another delivery when a config change replays the lead", async () => {
    const { deps, lead } = await withEventInFlight();
    await recordEvents(deps, "lead-1", [event("e1")]);
    expect(lead()?.qualification?.engagement.demo?.count).toBe(2);
    expect(await recordEvents(deps, "lead-1", [event("in-flight")])).toEqual({ applied: 1, duplicates: 0 });
    expect(lead()?.qualification).toMatchObject({ engagement: { demo: { value: 30, count: 3 } } });
  });

  it("counts once an event stored by another delivery when a rescore runs", async () => {
    const { deps, lead, after } = await withEventInFlight();
    expect(await rescoreLeads(deps, ["lead-1"])).toBe(1);
    expect(lead()?.qualification).toMatchObject({ configVersion: after.version, engagement: { demo: { count: 1 } } });
    await recordEvents(deps, "lead-1", [event("in-flight")]);
    expect(lead()?.qualification).toMatchObject({ engagement: { demo: { value: 20, count: 2 } } });
  });
});

describe("refreshing temperatures", () => {
  it("turns a warm lead cold once its engagement has decayed, and says why", async () => {
    const { memory, deps, clock, lead } = await capturedLead();
    await recordEvents(deps, "lead-1", [event("e1")]);
    expect(lead()?.qualification).toMatchObject({
      temperature: "warm",
      coolsAt: "2026-11-27T12:00:00.000Z",
    });

    clock.advanceDays(3);
    expect(await refreshTemperatures(deps, pages(["lead-1"]))).toEqual({ checked: 1, changed: 0 });
    expect(lead()?.qualification?.temperature).toBe("warm");

    clock.advanceDays(1);
    expect(await refreshTemperatures(deps, pages(["lead-1"]))).toEqual({ checked: 1, changed: 1 });
    const cooled = lead();
    expect(cooled?.qualification).toMatchObject({ temperature: "cold", temperatureSince: "2026-11-28T10:00:00.000Z" });
    expect(cooled?.qualification).not.toHaveProperty("coolsAt");
    expect(memory.history.find(({ type, at }) => type === "temperature.changed" && at === clock.now())).toEqual({
      leadId: "lead-1",
      id: `temperature.changed:${cooled?.version}`,
      at: "2026-11-28T10:00:00.000Z",
      type: "temperature.changed",
      summary: "Warm → cold: score 27 < 30 (warm threshold)",
      details: {
        from: "warm",
        to: "cold",
        because: "score 27 < 30 (warm threshold)",
        score: { fit: 0, engagement: 27, total: 27 },
        cause: { kind: "decay" },
        configVersion: deps.model.version,
      },
    });
  });

  it("sets coolsAt for a hot lead to the hour it turns warm", async () => {
    const { deps, lead } = await capturedLead();
    await recordEvents(deps, "lead-1", [event("e1"), event("e2")]);
    expect(lead()?.qualification).toMatchObject({ temperature: "hot", coolsAt: "2026-11-25T21:00:00.000Z" });
  });

  it("has a lead that does not cool within a year looked at again in a year, so it stays in the index", async () => {
    const { deps, lead } = await capturedLead(scoringWith(40, 1_000));
    await recordEvents(deps, "lead-1", [event("e1")]);
    expect(lead()?.qualification).toMatchObject({ temperature: "warm", coolsAt: "2027-11-24T10:00:00.000Z" });
  });

  it("leaves coolsAt off a cold lead", async () => {
    const { lead } = await capturedLead();
    expect(lead()?.qualification?.temperature).toBe("cold");
    expect(lead()?.qualification).not.toHaveProperty("coolsAt");
  });

  it("reads every page and counts leads that are gone as checked", async () => {
    const { deps, clock } = await capturedLead();
    await recordEvents(deps, "lead-1", [event("e1")]);
    clock.advanceDays(4);
    expect(await refreshTemperatures(deps, pages(["lead-404"], ["lead-1"]))).toEqual({ checked: 2, changed: 1 });
  });
});
